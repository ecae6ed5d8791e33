"""Recording of every change Berth makes, in one place: the service layer.

Each service that changes something is declared with `@audited_action(...)`. The declaration
names the action, which keyword arguments identify the target, and which are safe to keep as
parameters: an allow-list, so a password or key passed to a service can never reach the log
by accident. The decorator records one event per call with its outcome and duration.

Changes that do not pass through a service function (Django admin saves, management commands)
use the same machinery through `recording(...)`.

Events form a hash chain (see `AuditEvent.record`); `verify_chain` checks it and `prune_events`
removes old events after archiving them, leaving a prune event that vouches for the cut.
"""

import contextvars
import csv
import dataclasses
import datetime as dt
import functools
import hashlib
import io
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db import DatabaseError, OperationalError, connections, transaction
from django.db.transaction import TransactionManagementError

from dashboard.audit.models import AuditChainHead, AuditEvent, chain_hash, locked_chain_head, pruning_permitted
from dashboard.core.context import current_client_ip, current_request_id, current_source
from dashboard.core.errors import BerthError

# Refusals are "denied" rather than "failed": the request was understood and not allowed.
DENIED_CODES = {"permission_denied", "quota_exceeded", "role_denied", "tenant_denied"}
PRUNE_ACTION = "audit.prune"

logger = logging.getLogger(__name__)

_declared_actions: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def declared_actions() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Every audited action with its target and parameter allow-lists (for tests and docs)."""
    return dict(_declared_actions)


class _Recording:
    """What a `recording` block may add once it knows more (e.g. the created object's id, or the
    tenant the service found the target belongs to)."""

    def __init__(self, target: dict[str, Any], parameters: dict[str, Any], tenant=None):
        self.target = target
        self.parameters = parameters
        self.tenant = tenant


# The innermost recording of this thread (or task), so a service can name the event's tenant once it
# has looked the target up (see `audit_tenant`) without every caller passing it in.
_current_recording: contextvars.ContextVar[_Recording | None] = contextvars.ContextVar(
    "berth_audit_recording", default=None
)


def audit_tenant(tenant) -> None:
    """Name the tenant of the event being recorded; the first tenant named wins."""
    entry = _current_recording.get()
    if entry is not None and entry.tenant is None:
        entry.tenant = tenant


def inside_recording() -> bool:
    return _current_recording.get() is not None


@contextmanager
def recording(
    action: str, *, actor, target: dict[str, Any], parameters: dict[str, Any] | None = None, tenant=None
) -> Iterator[_Recording]:
    """Record one event for the enclosed change: success, or denied/failed with the error, and
    its duration. The exception, if any, goes on to the caller unchanged."""
    entry = _Recording(dict(target), dict(parameters or {}), tenant)
    started = time.monotonic()
    outcome, error_message = "success", ""
    token = _current_recording.set(entry)
    try:
        yield entry
    except BerthError as error:
        outcome = "denied" if error.code in DENIED_CODES else "failed"
        error_message = error.message
        raise
    except Exception as error:
        # The exception text may quote input (or a secret); its class is enough to find it in the logs.
        outcome, error_message = "failed", f"internal error: {type(error).__name__}"
        raise
    finally:
        _current_recording.reset(token)
        _record_surviving_rollback(
            {
                "actor": actor,
                "action": action,
                "target": _plain(entry.target),
                "parameters": _plain(entry.parameters),
                "outcome": outcome,
                "error": error_message,
                "duration_ms": int((time.monotonic() - started) * 1000),
                "tenant": entry.tenant,
            }
        )


# How long an event whose enclosing transaction is still open waits for it to end before being written anyway.
ENCLOSING_TRANSACTION_WAIT = 60


def _record_surviving_rollback(fields: dict[str, Any]) -> None:
    """Write the event so that it outlives the transaction the change ran in.

    A change recorded inside a transaction someone else opened (the admin's save, a command's
    `atomic`) is written inside it, and a rollback of that transaction would take the event with
    it, while whatever the change did outside the database (in Ceph, in Kubernetes) stays done.
    So once that transaction has ended, a thread of its own (with its own connection) checks that
    the event is there and writes it again, marked as rolled back, if it is not.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _retrying_when_busy(fields)
        return
    if any(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks):
        # Inside a test case's transaction nothing ever commits, and no other connection could see the event.
        record_event(**fields)
        return
    written = ""
    try:
        written = record_event(**fields).hash
    except (DatabaseError, TransactionManagementError):
        # The enclosing transaction is already broken (the change's own error); only the thread can write it.
        pass
    context = contextvars.copy_context()
    threading.Thread(
        target=context.run,
        args=(_ensure_recorded, connection, written, fields),
        name=f"berth-audit-{fields['action']}",
    ).start()


def _ensure_recorded(caller_connection, written: str, fields: dict[str, Any]) -> None:
    deadline = time.monotonic() + ENCLOSING_TRANSACTION_WAIT
    while caller_connection.in_atomic_block and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        if not written:
            _retrying_when_busy(fields)
            return
        with transaction.atomic():
            # The caller's transaction holds the chain head since it wrote the event: this waits for
            # its commit or rollback to finish, so the answer is final.
            locked_chain_head()
            rolled_back = not AuditEvent.objects.filter(hash=written).exists()
        if rolled_back:
            _retrying_when_busy({**fields, "parameters": {**fields["parameters"], "transaction": "rolled back"}})
    finally:
        connections.close_all()


def _retrying_when_busy(fields: dict[str, Any]) -> None:
    """A database busy with another writer (SQLite's lock, a PostgreSQL lock timeout) delays the event,
    it does not drop it; one that cannot be written at all is logged in full, the last record left."""
    for attempt in range(3):
        try:
            record_event(**fields)
            return
        except OperationalError:
            if attempt == 2:
                logger.exception("audit event could not be written: %s", json.dumps(_plain(fields), sort_keys=True))
                raise
            time.sleep(0.1 * (attempt + 1))


def audited_action(action: str, *, target: tuple[str, ...], params: tuple[str, ...] = ()) -> Callable:
    """Declare a keyword-only service function as an audited change.

    `target` and `params` name keyword arguments of the service; model instances among them
    are recorded by their string form. Arguments not named are never recorded. A `tenant`
    keyword argument, when the service has one, becomes the event's tenant.
    """
    if action in _declared_actions:
        raise ValueError(f"audit action {action} is declared twice")
    _declared_actions[action] = (target, params)

    def decorate(service: Callable) -> Callable:
        @functools.wraps(service)
        def run(*args: Any, **kwargs: Any) -> Any:
            if args:
                raise TypeError(f"{service.__name__} takes keyword arguments only")
            with recording(
                action,
                actor=kwargs.get("actor"),
                target={name: kwargs.get(name) for name in target if kwargs.get(name) not in (None, "")},
                parameters={name: kwargs[name] for name in params if name in kwargs},
                tenant=kwargs.get("tenant"),
            ):
                return service(**kwargs)

        return run

    return decorate


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return str(value)


def record_event(
    *,
    actor,
    action: str,
    target: dict[str, Any],
    parameters: dict[str, Any],
    outcome: str,
    error: str = "",
    duration_ms: int = 0,
    tenant=None,
) -> AuditEvent:
    event = AuditEvent.record(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        target=_plain(target),
        parameters=_plain(parameters),
        outcome=outcome,
        error=error,
        duration_ms=duration_ms,
        tenant=tenant,
        source=current_source.get(),
        client_ip=current_client_ip.get(),
        request_id=current_request_id.get(),
    )
    # The log line carries the request id too (RequestIdLogFilter), tying the event to the request's other lines.
    logger.info("audit event %s: %s %s by %s", event.pk, action, outcome, event.actor_name)
    return event


# --- reading events out: exports and archives share one shape ---------------------------------

EXPORT_FIELDS = (
    "id",
    "time",
    "actor_name",
    "tenant_slug",
    "source",
    "action",
    "target",
    "parameters",
    "outcome",
    "error",
    "duration_ms",
    "client_ip",
    "request_id",
    "prev_hash",
    "hash",
)


def event_as_dict(event) -> dict[str, Any]:
    row = {name: getattr(event, name) for name in EXPORT_FIELDS}
    row["time"] = event.time.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return row


def events_as_jsonl(events: Iterable) -> Iterator[str]:
    for event in events:
        yield json.dumps(event_as_dict(event), sort_keys=True, ensure_ascii=False) + "\n"


def events_as_csv(events: Iterable) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(EXPORT_FIELDS)
    yield flush()
    for event in events:
        row = event_as_dict(event)
        writer.writerow(
            [
                json.dumps(row[name], sort_keys=True) if name in ("target", "parameters") else row[name]
                for name in EXPORT_FIELDS
            ]
        )
        yield flush()


# --- verification ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ChainReport:
    events: int
    broken_event_id: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return not self.problem


def verify_chain() -> ChainReport:
    """Walk the events oldest first and report the first one that does not fit.

    The oldest remaining event links to nothing (an unpruned log) or to the last event a prune
    removed; in the latter case a later `audit.prune` event, itself covered by the chain, must
    name that hash. The head row must point at the newest event, so removing events from the end
    is noticed too.
    """

    events = AuditEvent.objects.order_by("id")
    vouched = {event.parameters.get("last_pruned_hash") for event in events.filter(action=PRUNE_ACTION)}
    previous = None
    count = 0
    for event in events.iterator(chunk_size=1000):
        count += 1
        computed = chain_hash(event)
        if computed != event.hash:
            return ChainReport(
                count,
                event.pk,
                f"event {event.pk}: content does not match its hash (stored {event.hash}, computed {computed})",
            )
        if previous is None:
            if event.prev_hash and event.prev_hash not in vouched:
                return ChainReport(
                    count,
                    event.pk,
                    f"event {event.pk} is the oldest but links to {event.prev_hash}, "
                    "which no prune event vouches for (events removed?)",
                )
        elif event.prev_hash != previous.hash:
            return ChainReport(
                count,
                event.pk,
                f"event {event.pk}: prev_hash {event.prev_hash} differs from "
                f"event {previous.pk}'s hash {previous.hash}",
            )
        previous = event
    head = AuditChainHead.objects.filter(pk=AuditChainHead.ROW_ID).first()
    if head is not None and head.last_hash != (previous.hash if previous else ""):
        newest = previous.pk if previous else None
        return ChainReport(
            count,
            newest,
            f"the chain head names event {head.last_event_id} ({head.last_hash}) "
            f"but the newest event is {newest} (events removed from the end?)",
        )
    return ChainReport(count)


# --- pruning -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PruneResult:
    pruned: int
    archive: Path | None
    archive_sha256: str


def prune_events(*, actor=None, before: dt.date, archive: Path) -> PruneResult:
    """Archive the events older than `before` to JSON Lines (flushed to disk), delete them, and
    record an `audit.prune` event carrying the archive's sha256 and the hash of the last removed
    event, so the oldest remaining event's link is still accounted for.

    Only a prefix of the chain is removed (everything before the first event at or after
    `before`), so the remaining events stay one unbroken chain. The chain head stays locked
    throughout, so no event is appended in the middle.
    """

    cutoff = dt.datetime.combine(before, dt.time.min, tzinfo=dt.UTC)
    with transaction.atomic():
        locked_chain_head()
        first_kept = AuditEvent.objects.filter(time__gte=cutoff).order_by("id").values_list("id", flat=True).first()
        doomed = AuditEvent.objects.order_by("id")
        if first_kept is not None:
            doomed = doomed.filter(id__lt=first_kept)
        last_pruned = doomed.reverse().first()
        if last_pruned is None:
            return PruneResult(0, None, "")
        archive_sha256 = _write_archive(archive, doomed.iterator(chunk_size=1000))
        with pruning_permitted():
            pruned, _ = doomed.delete()
        record_event(
            actor=actor,
            action=PRUNE_ACTION,
            target={"events_before": before.isoformat()},
            parameters={
                "archive": str(archive),
                "archive_sha256": archive_sha256,
                "pruned_events": pruned,
                "last_pruned_id": last_pruned.pk,
                "last_pruned_hash": last_pruned.hash,
            },
            outcome="success",
        )
    return PruneResult(pruned, archive, archive_sha256)


def _write_archive(path: Path, events: Iterable) -> str:
    digest = hashlib.sha256()
    path.parent.mkdir(parents=True, exist_ok=True)
    # "x": an existing archive is never overwritten.
    with open(path, "x", encoding="utf-8") as archive:
        for line in events_as_jsonl(events):
            archive.write(line)
            digest.update(line.encode())
        archive.flush()
        os.fsync(archive.fileno())
    # The file's directory entry must be durable too before the events it holds are deleted.
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return digest.hexdigest()
