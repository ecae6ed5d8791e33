"""Background work for operations that outlast a web request (flatten, copy, purge, delete) and for
Berth's own periodic jobs, on Django's Tasks API (DEP 14) with the database backend.

A body is a named module-level function, registered with `@task_body("storage.image.copy")`, that
takes JSON arguments and a `progress(done, total)` callback. `task_start` records a BackgroundTask
row and enqueues its run in the same transaction, so a worker never sees one without the other.
Workers (`manage.py berth_worker`, any number, on any host sharing the database) take runs from the
queue; while a body runs, its worker writes a heartbeat into the row. A task whose heartbeat stops
(the worker was killed or its host died) is failed by `tasks_reap_stale`, which every worker runs
when it starts and then periodically: its quota reservation ends with it, the body's `on_abandon`
clean-up runs (a partial copy is removed) and an audit event says what happened.

An identical task (same name and target) that is queued or running is joined instead of started
twice, as the Ceph Dashboard's task manager does: a double click flattens once. A unique constraint
over the active rows makes that hold across processes.
"""

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, close_old_connections, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_tasks import TaskContext, TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from dashboard.audit.services import record_event
from dashboard.core.actors import Actor, signed_in
from dashboard.core.context import change_context, current_request_id
from dashboard.core.errors import BerthError, NotFound
from dashboard.tasks.models import BackgroundTask
from dashboard.tenancy.models import Tenant
from dashboard.tenancy.services import is_platform_admin, tenants_for

logger = logging.getLogger(__name__)

# Answers librbd's progress callbacks, which must return 0 (see _Progress).
ProgressCallback = Callable[[int, int], int]
T = TypeVar("T")

# Progress is written at most this often, so a tight librbd callback loop cannot flood the database.
PROGRESS_WRITE_INTERVAL = 0.5


@dataclass(frozen=True)
class TaskBody:
    name: str
    run: Callable[..., Any]
    # Called with the task row when the task was abandoned (its worker died mid-way); answers what it
    # cleaned up, for the task's message. It must be safe to call whatever state the work was left in.
    on_abandon: Callable[[BackgroundTask], str] | None = None
    # Berth's own housekeeping runs every few seconds and changes nothing most of the time: recording
    # each start and end would bury the audit log. Such a body records what it changes itself.
    audit_runs: bool = True


_bodies: dict[str, TaskBody] = {}


def task_body(
    name: str, *, on_abandon: Callable[[BackgroundTask], str] | None = None, audit_runs: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a module-level function as the body of the background task `name`."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        if name in _bodies:
            raise ValueError(f"background task body {name} is registered twice")
        _bodies[name] = TaskBody(name, function, on_abandon, audit_runs)
        return function

    return register


def _target_key(target: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(target, sort_keys=True).encode()).hexdigest()


def task_start(
    *,
    actor: Actor | None,
    tenant: Tenant | None = None,
    name: str,
    target: dict[str, Any],
    arguments: dict[str, Any],
    run_after: datetime | None = None,
) -> BackgroundTask:
    """Queue the body registered as `name` with JSON `arguments`; return its task row at once (or the
    identical task already queued or running). `tenant`: whose storage the task changes, if anyone's.
    `run_after`: not before then (a retry's backoff)."""
    if name not in _bodies:
        raise LookupError(f"no background task body is registered as {name}")
    json.dumps(arguments)  # fail here, in the request, rather than in a worker
    key = _target_key(target)
    try:
        with transaction.atomic():
            row = BackgroundTask.objects.create(
                name=name,
                target=target,
                target_key=key,
                arguments=arguments,
                tenant=tenant,
                actor=actor if signed_in(actor) else None,
                request_id=current_request_id.get(),
            )
            queued = run_background_task.using(run_after=run_after) if run_after else run_background_task
            row.queue_id = queued.enqueue(task_id=str(row.id)).id
            row.save(update_fields=["queue_id"])
    except IntegrityError:
        joined = BackgroundTask.objects.filter(name=name, target_key=key, status__in=BackgroundTask.ACTIVE).first()
        if joined is None:  # it finished between our insert and this read: start afresh
            return task_start(
                actor=actor, tenant=tenant, name=name, target=target, arguments=arguments, run_after=run_after
            )
        return joined
    return row


def task_get(*, actor: Actor | None, task_id: UUID | str) -> BackgroundTask:
    """Another tenant's task answers as a missing one does."""
    try:
        return _visible_tasks(actor).get(pk=task_id)
    except (BackgroundTask.DoesNotExist, ValidationError, ValueError, TypeError):
        raise NotFound(f"No background task {task_id}.", code="task_not_found") from None


def task_list(*, actor: Actor | None, limit: int = 50) -> list[BackgroundTask]:
    return list(_visible_tasks(actor)[:limit])


def _visible_tasks(actor: Actor | None) -> QuerySet[BackgroundTask]:
    """Platform admins and Berth itself (actor None: commands, pollers) see every task; anyone
    else the tasks they started and those of their tenants (started by a fellow member or a
    platform admin)."""
    if actor is None or is_platform_admin(actor):
        return BackgroundTask.objects.all()
    if not signed_in(actor):
        return BackgroundTask.objects.none()
    return BackgroundTask.objects.filter(Q(actor=actor) | Q(tenant__in=tenants_for(actor)))


def _retrying_when_locked(operation: Callable[[], T]) -> T:
    """SQLite (the embedded default) refuses a write while another connection writes; a task's
    bookkeeping must not die of that."""
    for _ in range(99):
        try:
            return operation()
        except OperationalError as error:
            if "locked" not in str(error):
                raise
            time.sleep(0.02)
    return operation()


class _Progress:
    def __init__(self, task_id: UUID):
        self.task_id = task_id
        self.last_percent = 0
        self.last_write = 0.0

    def __call__(self, done: int, total: int) -> int:
        percent = min(99, int(100 * done / total)) if total else 0
        now = time.monotonic()
        if percent > self.last_percent and now - self.last_write >= PROGRESS_WRITE_INTERVAL:
            _retrying_when_locked(lambda: BackgroundTask.objects.filter(pk=self.task_id).update(progress=percent))
            self.last_percent, self.last_write = percent, now
        # librbd's progress callbacks must answer an int; anything but 0 would cancel the operation.
        return 0


class _Heartbeat(threading.Thread):
    """Writes the task's heartbeat while its body runs, so a dead worker is noticed within
    BERTH_TASK_STALE_AFTER seconds."""

    def __init__(self, task_id: UUID):
        super().__init__(name=f"berth-heartbeat-{task_id}", daemon=True)
        self.task_id = task_id
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(settings.BERTH_TASK_HEARTBEAT):
                _retrying_when_locked(
                    lambda: BackgroundTask.objects.filter(pk=self.task_id, status=BackgroundTask.RUNNING).update(
                        heartbeat=timezone.now()
                    )
                )
        finally:
            close_old_connections()


@task(takes_context=True)
def run_background_task(context: TaskContext, *, task_id: str) -> None:
    """What a worker runs for one BackgroundTask: the body, with heartbeat, progress, outcome and audit."""
    row = BackgroundTask.objects.filter(pk=task_id, status=BackgroundTask.QUEUED).first()
    if row is None:  # reaped, or already run by a worker that then lost track of it
        return
    body = _bodies[row.name]
    worker = context.task_result.worker_ids[-1] if context.task_result.worker_ids else ""
    started = time.monotonic()
    with change_context(source="task", request_id=row.request_id or None):
        row.status, row.started, row.heartbeat, row.worker = (
            BackgroundTask.RUNNING,
            timezone.now(),
            timezone.now(),
            worker,
        )
        _retrying_when_locked(lambda: row.save(update_fields=["status", "started", "heartbeat", "worker"]))
        if body.audit_runs:
            _record(row, phase="started", outcome="success")
        heartbeat = _Heartbeat(row.id)
        heartbeat.start()
        try:
            result = body.run(progress=_Progress(row.id), **row.arguments)
        except BerthError as error:
            _finish(row, BackgroundTask.FAILED, error.message, None, started)
        except Exception as error:
            logger.exception("background task %s (%s) crashed", row.name, row.id)
            _finish(
                row,
                BackgroundTask.FAILED,
                f"Internal error ({type(error).__name__}); see the server log for this request id.",
                None,
                started,
            )
        else:
            _finish(row, BackgroundTask.SUCCEEDED, "", result, started)
        finally:
            heartbeat.stopped.set()


def _finish(row: BackgroundTask, status: str, message: str, result: Any, started: float) -> None:
    body = _bodies[row.name]
    # Only a task still running is finished here: a reaper that declared it abandoned has had its say.
    updated = _retrying_when_locked(
        lambda: BackgroundTask.objects.filter(pk=row.pk, status=BackgroundTask.RUNNING).update(
            status=status,
            message=message,
            result=result,
            finished=timezone.now(),
            progress=100 if status == BackgroundTask.SUCCEEDED else row.progress,
        )
    )
    if updated and (body.audit_runs or status != BackgroundTask.SUCCEEDED):
        row.refresh_from_db()
        _record(
            row,
            phase="finished",
            outcome="success" if status == BackgroundTask.SUCCEEDED else "failed",
            error=message,
            duration_ms=int((time.monotonic() - started) * 1000),
        )


def _record(row: BackgroundTask, *, phase: str, outcome: str, error: str = "", duration_ms: int = 0) -> None:
    _retrying_when_locked(
        lambda: record_event(
            actor=row.actor,
            action=row.name,
            target=row.target,
            parameters={"task_id": str(row.id), "phase": phase},
            outcome=outcome,
            error=error,
            duration_ms=duration_ms,
            tenant=row.tenant,
        )
    )


def tasks_reap_stale(*, now: datetime | None = None) -> list[BackgroundTask]:
    """Fail every task whose worker has stopped: running with no heartbeat for BERTH_TASK_STALE_AFTER
    seconds, or still queued although a worker took its run from the queue that long ago and never
    started it. Answer the tasks failed."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.BERTH_TASK_STALE_AFTER)
    silent = Q(status=BackgroundTask.RUNNING, heartbeat__lt=cutoff)
    taken_never_started = Q(
        status=BackgroundTask.QUEUED,
        queue_id__in=DBTaskResult.objects.exclude(status=TaskResultStatus.READY)
        .filter(Q(started_at__lt=cutoff) | Q(started_at__isnull=True, enqueued_at__lt=cutoff))
        .values("id"),
    )
    reaped = []
    for row in BackgroundTask.objects.filter(silent | taken_never_started):
        claimed = BackgroundTask.objects.filter(Q(pk=row.pk) & (silent | taken_never_started)).update(
            status=BackgroundTask.FAILED, finished=now, message=_abandoned_message(row, cleaned="")
        )
        if not claimed:  # another reaper, or the worker itself, got there first
            continue
        # The queue's own record of the run would say "running" for ever; it ended with its worker.
        DBTaskResult.objects.filter(id=row.queue_id or uuid4(), status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED, finished_at=now
        )
        reaped.append(_abandon(row, now))
    return reaped


def _abandoned_message(row: BackgroundTask, *, cleaned: str) -> str:
    last_seen = timezone.localtime(row.heartbeat or row.created).strftime("%Y-%m-%d %H:%M:%S")
    return (
        f"Its worker ({row.worker or 'unknown'}) stopped while running it: no sign of life since {last_seen}, "
        f"at {row.progress}% done. {cleaned + ' ' if cleaned else ''}Any quota it held is released. "
        "Check the worker's log for why it stopped, then start the operation again if it is still needed."
    )


def _abandon(row: BackgroundTask, now: datetime) -> BackgroundTask:
    body = _bodies.get(row.name)
    cleaned = ""
    if body is not None and body.on_abandon is not None:
        try:
            with change_context(source="task", request_id=row.request_id or None):
                cleaned = body.on_abandon(row)
        except BerthError as error:
            cleaned = f"Cleaning up failed: {error.message}"
        except Exception:
            logger.exception("clean-up of abandoned task %s (%s) failed", row.name, row.id)
            cleaned = "Cleaning up failed; see the server log."
    message = _abandoned_message(row, cleaned=cleaned)
    BackgroundTask.objects.filter(pk=row.pk).update(message=message)
    row.refresh_from_db()
    with change_context(source="task", request_id=row.request_id or None):
        _record(row, phase="abandoned", outcome="failed", error=message)
    logger.warning("background task %s (%s) abandoned by worker %s", row.name, row.id, row.worker)
    return row
