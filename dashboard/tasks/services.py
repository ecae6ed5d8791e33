"""Background work for operations that outlast a web request (flatten, copy, purge, delete).

A small in-process thread pool rather than a queue service: the embedded deployment has no
broker, the work is I/O bound inside librbd (which releases the GIL), and the state every
process and the API need lives in the BackgroundTask table. A task is submitted only after the
transaction that created its row commits, so a worker never looks for a row it cannot see yet.

An identical task (same name and target) still running in this process is joined instead of
started twice, as the Ceph Dashboard's task manager does: a double click flattens once.
"""

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, close_old_connections, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

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
TaskBody = Callable[[ProgressCallback], Any]

# Progress is written at most this often, so a tight librbd callback loop cannot flood the database.
PROGRESS_WRITE_INTERVAL = 0.5

_executor = ThreadPoolExecutor(max_workers=getattr(settings, "BERTH_TASK_WORKERS", 2), thread_name_prefix="berth-task")
_active_lock = threading.Lock()
_active: dict[UUID, tuple[str, dict[str, Any]]] = {}

T = TypeVar("T")


def task_start(
    *, actor: Actor | None, tenant: Tenant | None = None, name: str, target: dict[str, Any], run: TaskBody
) -> BackgroundTask:
    """Queue `run(progress)` and return its task row at once; `progress(done, total)` may be
    called from `run` as often as it likes. `tenant`: whose storage the task changes, if anyone's."""
    with _active_lock:
        for task_id, (active_name, active_target) in list(_active.items()):
            if active_name == name and active_target == target:
                joined = BackgroundTask.objects.filter(pk=task_id, status__in=BackgroundTask.ACTIVE).first()
                if joined:
                    return joined
                # Its transaction rolled back (no row) or it just ended: start afresh.
                del _active[task_id]
        task = BackgroundTask.objects.create(
            name=name, target=target, tenant=tenant, actor=actor if signed_in(actor) else None
        )
        _active[task.id] = (name, target)
    request_id = current_request_id.get()
    transaction.on_commit(lambda: _executor.submit(_execute, task.id, run, request_id).add_done_callback(_log_crash))
    return task


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
    """SQLite (the embedded default) refuses a write while another connection holds the table,
    and without a busy wait in shared-cache mode; a task's bookkeeping must not die of that."""
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


def _execute(task_id: UUID, run: TaskBody, request_id: str) -> None:
    close_old_connections()
    started = time.monotonic()
    try:
        with change_context(source="task", request_id=request_id):
            task = _retrying_when_locked(lambda: BackgroundTask.objects.get(pk=task_id))
            task.status, task.started = BackgroundTask.RUNNING, timezone.now()
            _retrying_when_locked(lambda: task.save(update_fields=["status", "started"]))
            _record(task, phase="started", outcome="success")
            try:
                result = run(_Progress(task_id))
            except BerthError as error:
                _finish(task, BackgroundTask.FAILED, error.message, None, started)
            except Exception as error:
                logger.exception("background task %s (%s) crashed", task.name, task_id)
                _finish(
                    task,
                    BackgroundTask.FAILED,
                    f"Internal error ({type(error).__name__}); see the server log for this request id.",
                    None,
                    started,
                )
            else:
                _finish(task, BackgroundTask.SUCCEEDED, "", result, started)
    finally:
        with _active_lock:
            _active.pop(task_id, None)
        connection.close()


def _log_crash(future: Future[None]) -> None:
    # Failures inside a task are recorded on its row; this catches the rest (e.g. a lost database).
    if future.exception() is not None:
        logger.error("background task runner failed", exc_info=future.exception())


def _finish(task: BackgroundTask, status: str, message: str, result: Any, started: float) -> None:
    task.status, task.message, task.result, task.finished = status, message, result, timezone.now()
    if status == BackgroundTask.SUCCEEDED:
        task.progress = 100
    _retrying_when_locked(lambda: task.save(update_fields=["status", "message", "result", "finished", "progress"]))
    _record(
        task,
        phase="finished",
        outcome="success" if status == BackgroundTask.SUCCEEDED else "failed",
        error=message,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def _record(task: BackgroundTask, *, phase: str, outcome: str, error: str = "", duration_ms: int = 0) -> None:
    _retrying_when_locked(
        lambda: record_event(
            actor=task.actor,
            action=task.name,
            target=task.target,
            parameters={"task_id": str(task.id), "phase": phase},
            outcome=outcome,
            error=error,
            duration_ms=duration_ms,
            tenant=task.tenant,
        )
    )
