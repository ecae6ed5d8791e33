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
from typing import Any, ParamSpec, TypeVar, cast

from django.db import DatabaseError, IntegrityError, OperationalError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.transaction import TransactionManagementError

from dashboard.audit.models import (
    HEAD_RESTORED_ACTION,
    KEY_SWITCH_ACTIONS,
    PLAIN_SHA256,
    REKEY_ACTION,
    AuditChainHead,
    AuditEvent,
    AuditTenant,
    audit_keys,
    chain_hash,
    key_id,
    locked_chain_head,
    pruning_permitted,
    same_hash,
    signing_key,
)
from dashboard.core.actors import Actor, signed_in
from dashboard.core.context import current_client_ip, current_request_id, current_source
from dashboard.core.errors import BerthError

# Refusals are "denied" rather than "failed": the request was understood and not allowed.
DENIED_CODES = {"permission_denied", "quota_exceeded", "role_denied", "tenant_denied"}
PRUNE_ACTION = "audit.prune"
# How often `verify_chain` catches up with events appended while it walks before it gives up.
VERIFY_PASSES = 20

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

_declared_actions: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def declared_actions() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Every audited action with its target and parameter allow-lists (for tests and docs)."""
    return dict(_declared_actions)


class _Recording:
    """What a `recording` block may add once it knows more (e.g. the created object's id, or the
    tenant the service found the target belongs to)."""

    def __init__(self, target: dict[str, Any], parameters: dict[str, Any], tenant: AuditTenant | None = None):
        self.target = target
        self.parameters = parameters
        self.tenant = tenant


# The innermost recording of this thread (or task), so a service can name the event's tenant once it
# has looked the target up (see `audit_tenant`) without every caller passing it in.
_current_recording: contextvars.ContextVar[_Recording | None] = contextvars.ContextVar(
    "berth_audit_recording", default=None
)


def audit_tenant(tenant: AuditTenant) -> None:
    """Name the tenant of the event being recorded; the first tenant named wins."""
    entry = _current_recording.get()
    if entry is not None and entry.tenant is None:
        entry.tenant = tenant


def audit_result(**values: Any) -> None:
    """Add what the service learned to the event being recorded (e.g. the outcome of a check). As
    with the declared parameters, only what is named here is kept: never pass a secret."""
    entry = _current_recording.get()
    if entry is not None:
        entry.parameters.update(values)


def inside_recording() -> bool:
    return _current_recording.get() is not None


@contextmanager
def recording(
    action: str,
    *,
    actor: Actor | None,
    target: dict[str, Any],
    parameters: dict[str, Any] | None = None,
    tenant: AuditTenant | None = None,
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


def _ensure_recorded(caller_connection: BaseDatabaseWrapper, written: str, fields: dict[str, Any]) -> None:
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
        except IntegrityError:
            if not signed_in(fields["actor"]) or "actor_name" in fields:
                raise
            # The actor was deleted while the change ran: the event keeps their name, without the link.
            fields = {**fields, "actor": None, "actor_name": fields["actor"].get_username()}
        except OperationalError:
            if attempt == 2:
                logger.exception("audit event could not be written: %s", json.dumps(_plain(fields), sort_keys=True))
                raise
            time.sleep(0.1 * (attempt + 1))


def audited_action(
    action: str, *, target: tuple[str, ...], params: tuple[str, ...] = ()
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare a keyword-only service function as an audited change.

    `target` and `params` name keyword arguments of the service; model instances among them
    are recorded by their string form. Arguments not named are never recorded. A `tenant`
    keyword argument, when the service has one, becomes the event's tenant.
    """
    if action in _declared_actions:
        raise ValueError(f"audit action {action} is declared twice")
    _declared_actions[action] = (target, params)

    def decorate(service: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(service)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            if args:
                raise TypeError(f"{service.__name__} takes keyword arguments only")
            with recording(
                action,
                actor=cast(Actor | None, kwargs.get("actor")),
                target={name: kwargs.get(name) for name in target if kwargs.get(name) not in (None, "")},
                parameters={name: kwargs[name] for name in params if name in kwargs},
                tenant=cast(AuditTenant | None, kwargs.get("tenant")),
            ):
                return service(*args, **kwargs)

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
    actor: Actor | None,
    action: str,
    target: dict[str, Any],
    parameters: dict[str, Any],
    outcome: str,
    error: str = "",
    duration_ms: int = 0,
    tenant: AuditTenant | None = None,
    actor_name: str | None = None,
) -> AuditEvent:

    event = AuditEvent.record(
        actor=actor if signed_in(actor) else None,
        actor_name=actor_name,
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


def event_as_dict(event: AuditEvent) -> dict[str, Any]:
    row = {name: getattr(event, name) for name in EXPORT_FIELDS}
    row["time"] = event.time.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return row


def events_as_jsonl(events: Iterable[AuditEvent]) -> Iterator[str]:
    for event in events:
        yield json.dumps(event_as_dict(event), sort_keys=True, ensure_ascii=False) + "\n"


def events_as_csv(events: Iterable[AuditEvent]) -> Iterator[str]:
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
class ChainAnchor:
    """What an anchor file keeps of the chain: enough to notice later that it was cut back or replaced."""

    time: str
    head_event_id: int | None
    head_hash: str
    events: int


@dataclasses.dataclass(frozen=True)
class ChainReport:
    events: int
    broken_event_id: int | None = None
    problem: str = ""
    head_event_id: int | None = None
    head_hash: str = ""
    # Events from before the chain was keyed (plain sha256): anyone with write access could have rebuilt those
    # before the upgrade; after it, the signed head and the keyed events after them pin them down.
    unkeyed_events: int = 0

    @property
    def intact(self) -> bool:
        return not self.problem

    def anchor(self) -> ChainAnchor:
        return ChainAnchor(_now_iso(), self.head_event_id, self.head_hash, self.events)


class _ChainBroken(Exception):
    def __init__(self, event_id: int | None, problem: str):
        super().__init__(problem)
        self.event_id, self.problem = event_id, problem


class _ChainWalk:
    """Checks events oldest first, knowing which key hashes each: the oldest event's is found by
    trying them all, and it changes only at a key switch event."""

    def __init__(self, keys: list[str], vouched: set[str]):
        self.keys = {key_id(key): key for key in keys}
        self.vouched = vouched
        self.scheme: str | None = None  # the key id of the current event; PLAIN_SHA256 for unkeyed ones
        self.previous: AuditEvent | None = None
        self.count = self.unkeyed = 0

    def check(self, event: AuditEvent) -> None:
        self.count += 1
        if self.scheme is None:
            self.scheme = self._scheme_of_oldest(event)
        elif event.action in KEY_SWITCH_ACTIONS:
            self._switch(event)
        if self.scheme == PLAIN_SHA256:
            self.unkeyed += 1
        key = self.keys.get(self.scheme) if self.scheme != PLAIN_SHA256 else None
        if self.scheme != PLAIN_SHA256 and key is None:
            raise _ChainBroken(
                event.pk,
                f"event {event.pk} is hashed with audit key {self.scheme}, which is not configured "
                "(a retired key must stay in BERTH_AUDIT_KEY_FILE while its events are kept)",
            )
        # The hash it should have is not shown: for a row changed in the database that would be a valid HMAC
        # handed to whoever changed it.
        if not same_hash(event.hash, chain_hash(event, key)):
            raise _ChainBroken(event.pk, f"event {event.pk}: content does not match its hash ({event.hash})")
        if event.action == HEAD_RESTORED_ACTION:
            found = event.parameters.get("found_head") or {}
            state = "signed" if found.get("signed") else "missing or unsigned"
            raise _ChainBroken(
                event.pk,
                f"event {event.pk} records that the chain head did not fit the log when it was written "
                f"({state}, naming event {found.get('last_event_id')}; the newest event was "
                f"{event.parameters.get('continued_after_event_id')}): events may have been deleted "
                "or the log rolled back to an earlier state",
            )
        if self.previous is None:
            if event.prev_hash and event.prev_hash not in self.vouched:
                raise _ChainBroken(
                    event.pk,
                    f"event {event.pk} is the oldest but links to {event.prev_hash}, "
                    "which no prune event vouches for (events removed?)",
                )
        elif event.prev_hash != self.previous.hash:
            raise _ChainBroken(
                event.pk,
                f"event {event.pk}: prev_hash {event.prev_hash} differs from "
                f"event {self.previous.pk}'s hash {self.previous.hash}",
            )
        self.previous = event

    def _scheme_of_oldest(self, event: AuditEvent) -> str:
        if same_hash(event.hash, chain_hash(event, None)):
            return PLAIN_SHA256
        for scheme, key in self.keys.items():
            if same_hash(event.hash, chain_hash(event, key)):
                return scheme
        raise _ChainBroken(
            event.pk,
            f"event {event.pk}: content does not match its hash, neither plain sha256 nor with any configured "
            "audit key (rewritten, or hashed with a retired key that is no longer configured)",
        )

    def _switch(self, event: AuditEvent) -> None:
        new = event.parameters.get("key_id") or PLAIN_SHA256
        if new == PLAIN_SHA256:
            raise _ChainBroken(event.pk, f"event {event.pk} switches the chain back to plain sha256")
        previous = event.parameters.get("previous_key_id")
        if event.action == REKEY_ACTION and previous != self.scheme:
            raise _ChainBroken(
                event.pk,
                f"event {event.pk} switches from key {previous or 'none'} but the events before it "
                f"are hashed with {self.scheme or 'none'}",
            )
        self.scheme = new

    def check_head(self, head: AuditChainHead | None, keys: list[str]) -> None:
        newest = self.previous
        if head is None:
            if newest is not None:
                raise _ChainBroken(
                    newest.pk,
                    f"the chain head row is missing while {self.count} events exist: it was deleted, "
                    "and events after the newest may have been deleted with it",
                )
            return
        if not signing_key(head, keys[:1]):
            retired = signing_key(head, keys[1:])
            if retired:
                raise _ChainBroken(
                    head.last_event_id,
                    f"the chain head is still signed with the retired audit key {key_id(retired)}: "
                    "run `manage.py rekey_audit` (or let Berth record any change) to move the chain to the current key",
                )
            raise _ChainBroken(
                head.last_event_id,
                "the chain head row's signature does not match the audit key: it was changed without the key "
                "(or BERTH_AUDIT_KEY is not the key this log was written with)",
            )
        if head.last_hash != (newest.hash if newest else ""):
            raise _ChainBroken(
                newest.pk if newest else None,
                f"the chain head names event {head.last_event_id} ({head.last_hash}) "
                f"but the newest event is {newest.pk if newest else None} (events removed from the end?)",
            )
        if newest is not None and head.key_id != self.scheme:
            raise _ChainBroken(
                newest.pk,
                f"the chain head says the newest event is hashed with key {head.key_id or 'none'}, "
                f"but it is hashed with {self.scheme or 'none'}",
            )


def verify_chain() -> ChainReport:
    """Walk the events oldest first and report the first one that does not fit.

    The oldest remaining event links to nothing (an unpruned log) or to the last event a prune
    removed; in the latter case a later `audit.prune` event, itself covered by the chain, must
    name that hash. The head row, signed with the audit key, must point at the newest event, so
    removing events from the end is noticed too. Events appended while the walk runs are walked
    as well, so a live system verifies without a false alarm.
    """

    keys = audit_keys()
    vouched = {event.parameters.get("last_pruned_hash") for event in AuditEvent.objects.filter(action=PRUNE_ACTION)}
    walk = _ChainWalk(keys, vouched)
    try:
        # The head is read before each pass: every event it names was committed with it, so the pass sees
        # them. A pass that walks past the head met events appended meanwhile; read the head again.
        for _ in range(VERIFY_PASSES):
            head = AuditChainHead.objects.filter(pk=AuditChainHead.ROW_ID).first()
            after = walk.previous.pk if walk.previous else 0
            for event in AuditEvent.objects.filter(id__gt=after).order_by("id").iterator(chunk_size=1000):
                walk.check(event)
            newest_id = walk.previous.pk if walk.previous else 0
            if newest_id <= ((head.last_event_id or 0) if head else 0):
                break
        walk.check_head(head, keys)
    except _ChainBroken as broken:
        return ChainReport(walk.count, broken.event_id, broken.problem, unkeyed_events=walk.unkeyed)
    newest = walk.previous
    return ChainReport(
        walk.count,
        head_event_id=newest.pk if newest else None,
        head_hash=newest.hash if newest else "",
        unkeyed_events=walk.unkeyed,
    )


def chain_rekey() -> bool:
    """Move the chain to the current audit key now, after a rotation, rather than with the next recorded
    change; False if it is there already."""
    return AuditEvent.switch_to_current_key(
        source=current_source.get(), client_ip=current_client_ip.get(), request_id=current_request_id.get()
    )


# --- anchors: the chain's state kept outside the database --------------------------------------


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def write_anchor(path: Path, anchor: ChainAnchor) -> None:
    """Append the anchor to a JSON Lines file (flushed to disk); earlier lines are never touched."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(dataclasses.asdict(anchor), sort_keys=True) + "\n")
        file.flush()
        os.fsync(file.fileno())


def read_anchor(path: Path) -> ChainAnchor:
    """The newest anchor in an anchor file."""
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as error:
        raise BerthError(f"The anchor file {path} cannot be read: {error.strerror}.") from None
    if not lines:
        raise BerthError(f"The anchor file {path} holds no anchor yet.")
    try:
        row = json.loads(lines[-1])
        return ChainAnchor(
            time=str(row["time"]),
            head_event_id=None if row["head_event_id"] is None else int(row["head_event_id"]),
            head_hash=str(row["head_hash"]),
            events=int(row["events"]),
        )
    except (ValueError, KeyError, TypeError):
        raise BerthError(f"The last line of {path} is not an anchor written by Berth.") from None


def check_anchor(anchor: ChainAnchor) -> str:
    """What is wrong with the database compared with an anchor taken earlier ("" when nothing is).

    The anchored event must still be there with the same hash (or have been removed by a prune
    recorded after it), and the events up to it, with those pruned since, must number at least as
    many as were anchored. This catches a log cut back or rolled back to an earlier state, even
    with the chain head put back as it was then, and a log rebuilt by someone who has the key.
    """
    if anchor.head_event_id is None:
        return ""
    later_prunes = list(AuditEvent.objects.filter(action=PRUNE_ACTION, id__gt=anchor.head_event_id))
    anchored = AuditEvent.objects.filter(pk=anchor.head_event_id).first()
    if anchored is None:
        for prune in later_prunes:
            if prune.parameters.get("last_pruned_id") == anchor.head_event_id:
                if prune.parameters.get("last_pruned_hash") == anchor.head_hash:
                    return ""
                return (
                    f"prune event {prune.pk} removed event {anchor.head_event_id} with another hash than the "
                    f"anchor of {anchor.time} recorded ({anchor.head_hash}): the log was rewritten up to it"
                )
        if any(prune.parameters.get("last_pruned_id", 0) > anchor.head_event_id for prune in later_prunes):
            return ""
        return (
            f"the anchor of {anchor.time} names event {anchor.head_event_id}, which is gone and was not pruned: "
            "events were deleted, or the database was rolled back to an earlier state"
        )
    if anchored.hash != anchor.head_hash:
        return (
            f"event {anchor.head_event_id} no longer has the hash the anchor of {anchor.time} recorded "
            f"({anchor.head_hash}): the log was rewritten up to it"
        )
    present = AuditEvent.objects.filter(id__lte=anchor.head_event_id).count()
    pruned = sum(int(prune.parameters.get("pruned_events", 0)) for prune in later_prunes)
    if present + pruned < anchor.events:
        return (
            f"the anchor of {anchor.time} counted {anchor.events} events up to event {anchor.head_event_id}; "
            f"{present} are left and {pruned} were pruned since: events were deleted"
        )
    return ""


# --- pruning -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PruneResult:
    pruned: int
    archive: Path | None
    archive_sha256: str
    # The chain as the prune left it, for an anchor file.
    anchor: ChainAnchor


def prune_events(*, actor: Actor | None = None, before: dt.date, archive: Path) -> PruneResult:
    """Archive the events older than `before` to JSON Lines (flushed to disk), delete them, and
    record an `audit.prune` event carrying the archive's sha256 and the hash of the last removed
    event, so the oldest remaining event's link is still accounted for.

    Only a prefix of the chain is removed (everything before the first event at or after
    `before`), so the remaining events stay one unbroken chain. The chain head stays locked
    throughout, so no event is appended in the middle, and the anchor returned is the state the
    prune left.
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
            return PruneResult(0, None, "", _locked_chain_anchor())
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
        return PruneResult(pruned, archive, archive_sha256, _locked_chain_anchor())


def _locked_chain_anchor() -> ChainAnchor:
    head = locked_chain_head()
    return ChainAnchor(_now_iso(), head.last_event_id, head.last_hash, AuditEvent.objects.count())


def _write_archive(path: Path, events: Iterable[AuditEvent]) -> str:
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
