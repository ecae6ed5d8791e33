import contextvars
import datetime as dt
import functools
import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.utils import timezone

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class AuditLogIsAppendOnly(Exception):
    """Raised for any attempt to rewrite or remove audit events outside pruning."""


# Set only while `prune_audit` removes events it has archived; nothing else may delete them.
_prune_in_progress: contextvars.ContextVar[bool] = contextvars.ContextVar("berth_audit_prune", default=False)


class AuditTenant(Protocol):
    """The tenant an event belongs to, as far as the audit log needs it (audit cannot import tenancy)."""

    @property
    def slug(self) -> str: ...


@contextmanager
def pruning_permitted() -> Iterator[None]:
    token = _prune_in_progress.set(True)
    try:
        yield
    finally:
        _prune_in_progress.reset(token)


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def delete(self) -> tuple[int, dict[str, int]]:
        if not _prune_in_progress.get():
            raise AuditLogIsAppendOnly("Audit events are removed only by `manage.py prune_audit`, which archives them.")
        return super().delete()

    def update(self, **kwargs: Any) -> int:
        # Deleting a user sets `actor` to NULL through an update; the copied, hashed `actor_name`
        # keeps who it was. Every other field is fixed once written.
        if set(kwargs) - {"actor"}:
            raise AuditLogIsAppendOnly("Audit events cannot be changed once written.")
        return super().update(**kwargs)

    def bulk_create(self, *args: Any, **kwargs: Any) -> list["AuditEvent"]:
        raise AuditLogIsAppendOnly("Audit events are written one at a time by AuditEvent.record, which chains them.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AuditLogIsAppendOnly("Audit events cannot be changed once written.")


# The fields a hash covers. `actor` (the foreign key) is left out on purpose: it becomes NULL when the
# user is deleted, and `actor_name` already records who it was.
HASHED_FIELDS = (
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
)


# Events that switch the chain to another key: their parameters name it (by `key_id`), and it hashes
# them and every later event. A rotation writes a rekey event; a chain head found missing or forged
# is replaced by one written as a head-restored event, which `verify_audit` reports.
REKEY_ACTION = "audit.chain.rekey"
HEAD_RESTORED_ACTION = "audit.chain.head_restored"
KEY_SWITCH_ACTIONS = (REKEY_ACTION, HEAD_RESTORED_ACTION)
# The key id of events written before the chain was keyed: those are plain sha256.
PLAIN_SHA256 = ""


def audit_keys() -> list[str]:
    """The configured keys, the one new events are hashed with first (see BERTH_AUDIT_KEYS)."""
    if not settings.BERTH_AUDIT_KEYS:
        raise ImproperlyConfigured("No audit key is configured: set BERTH_AUDIT_KEY_FILE (see docs/audit.md).")
    return list(settings.BERTH_AUDIT_KEYS)


@functools.cache
def key_id(key: str) -> str:
    """A name for a key that gives nothing of it away, for rekey events and the chain head."""
    return hmac.new(key.encode(), b"berth audit key id", hashlib.sha256).hexdigest()[:16]


def chain_hash(event: "AuditEvent", key: str | None) -> str:
    """hmac-sha256 with `key` over a canonical JSON of the event's content and its predecessor's hash;
    plain sha256 (`key` None) for events written before the chain was keyed.

    This defines the stored chain: changing it makes every existing event fail verification.
    """
    content = {name: getattr(event, name) for name in HASHED_FIELDS}
    content["time"] = event.time.astimezone(dt.UTC).isoformat(timespec="microseconds")
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    if key is None:
        return hashlib.sha256(canonical).hexdigest()
    return hmac.new(key.encode(), canonical, hashlib.sha256).hexdigest()


def head_mac(head: "AuditChainHead", key: str) -> str:
    """The chain head's own hmac-sha256: without the key, nobody can point it at another event."""
    fields = {"last_event_id": head.last_event_id, "last_hash": head.last_hash, "key_id": head.key_id}
    message = b"berth audit chain head:" + json.dumps(fields, sort_keys=True).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def same_hash(stored: str, expected: str) -> bool:
    """Constant-time comparison of a hash read from the database, which may hold anything (as bytes:
    `compare_digest` refuses non-ASCII strings, and a planted one must not make appends fail)."""
    return hmac.compare_digest(stored.encode(), expected.encode())


def signing_key(head: "AuditChainHead", keys: list[str]) -> str | None:
    """Which of `keys` signed the head row, if any."""
    return next((key for key in keys if same_hash(head.mac, head_mac(head, key))), None)


class AuditChainHead(models.Model):
    """The newest event's hash, in one row that every append locks and signs.

    Locking this row (SELECT ... FOR UPDATE) is what keeps concurrent writers on PostgreSQL from
    both reading the same predecessor and forking the chain. Signed with the audit key, it lets
    `verify_audit` notice events deleted from the end of the chain.
    """

    ROW_ID = 1

    last_hash = models.CharField(max_length=64, blank=True)
    last_event_id = models.BigIntegerField(null=True, blank=True)
    # The key the newest event is hashed with (PLAIN_SHA256 before the chain was keyed).
    key_id = models.CharField(max_length=16, blank=True)
    mac = models.CharField(max_length=64, blank=True)

    class Meta:
        # Created as dashboard's model; the table kept its name when the audit app took it over.
        db_table = "dashboard_auditchainhead"

    def __str__(self) -> str:
        return f"audit chain head at event {self.last_event_id}"


class AuditEvent(models.Model):
    """One change Berth made (or refused to make). Append-only, hash-chained.

    Tenancy is recorded as the tenant's slug, copied like `actor_name`: an audit record has to
    outlive the tenant it mentions and must not change (its hash covers it) when that tenant is
    renamed away or deleted. The tenancy issue adds the Tenant model and fills this from it;
    no rewrite of this table is needed.
    """

    OUTCOMES = [("success", "success"), ("denied", "denied"), ("failed", "failed")]
    SOURCES = [("ui", "ui"), ("api", "api"), ("admin", "admin"), ("cli", "cli"), ("task", "task")]

    # Set by `record` while it holds the chain lock, so time order and chain order agree.
    time = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Copied so the record still says who it was after the user is deleted; "system" for background work.
    actor_name = models.CharField(max_length=150, db_index=True)
    tenant_slug = models.CharField("tenant", max_length=64, blank=True, db_index=True)
    source = models.CharField(max_length=8, choices=SOURCES)
    action = models.CharField(max_length=100, db_index=True)
    target = models.JSONField(default=dict)
    parameters = models.JSONField(default=dict)
    outcome = models.CharField(max_length=8, choices=OUTCOMES, db_index=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True, db_index=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        db_table = "dashboard_auditevent"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogIsAppendOnly("Audit events cannot be changed once written.")
        if not self.hash:
            raise AuditLogIsAppendOnly("Write audit events with AuditEvent.record, which chains them.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("Audit events are removed only by `manage.py prune_audit`, which archives them.")

    @classmethod
    def record(
        cls, *, actor: "User | None", actor_name: str | None = None, tenant: AuditTenant | None = None, **fields: Any
    ) -> "AuditEvent":
        """Append one event to the chain.

        On PostgreSQL the chain head row is locked until the surrounding transaction ends, so
        appends are serialised. SQLite has one writer at a time for the whole database: a second
        transaction that read the head cannot commit a write on top of a stale read (it gets
        "database is locked" instead), so the chain cannot fork there either.
        """
        event = cls(
            actor=actor,
            actor_name=actor_name or (actor.get_username() if actor else "system"),
            tenant_slug=getattr(tenant, "slug", tenant) or "",
            **fields,
        )
        # The database normalises addresses (IPv6 compression); hash what will be read back.
        event.client_ip = cast(models.GenericIPAddressField, cls._meta.get_field("client_ip")).to_python(
            event.client_ip
        )
        with transaction.atomic():
            head = locked_chain_head()
            key = audit_keys()[0]
            context = {"source": event.source, "client_ip": event.client_ip, "request_id": event.request_id}
            cls._switch_key_if_needed(head, key, **context)
            cls._append(head, event, key)
        return event

    @classmethod
    def switch_to_current_key(cls, *, source: str, client_ip: str | None, request_id: str) -> bool:
        """Record the switch to the current key now rather than with the next event; False if done already."""
        with transaction.atomic():
            return cls._switch_key_if_needed(
                locked_chain_head(), audit_keys()[0], source=source, client_ip=client_ip, request_id=request_id
            )

    @classmethod
    def _append(cls, head: AuditChainHead, event: "AuditEvent", key: str) -> None:
        event.time = timezone.now()
        event.prev_hash = head.last_hash
        event.hash = chain_hash(event, key)
        event.save()
        head.last_hash, head.last_event_id, head.key_id = event.hash, event.pk, key_id(key)
        head.mac = head_mac(head, key)
        _execute(
            f"UPDATE {AuditChainHead._meta.db_table} SET last_hash = %s, last_event_id = %s, key_id = %s, mac = %s "
            "WHERE id = %s",
            [head.last_hash, head.last_event_id, head.key_id, head.mac, head.pk],
        )

    @classmethod
    def _switch_key_if_needed(
        cls, head: AuditChainHead, key: str, *, source: str, client_ip: str | None, request_id: str
    ) -> bool:
        """Record the switch before the first event hashed with `key`, so verification knows where it applies.

        A head signed with a configured key and naming the newest event is a rotation (or, with no key
        id, the chain's first key). Any other head was deleted, forged or put back from an earlier
        state: the chain goes on from the newest event there is, and the switch records what was
        found, for `verify_audit` to report.
        """
        newest = _newest_event()
        # No events at all under a signed head: a prune removed them all, and its event links to the head.
        names_newest = newest is None or (head.last_event_id, head.last_hash) == newest
        if names_newest and head.key_id == key_id(key) and signing_key(head, [key]):
            return False
        if names_newest and signing_key(head, audit_keys()):
            action = REKEY_ACTION
            parameters: dict[str, Any] = {"key_id": key_id(key), "previous_key_id": head.key_id}
        else:
            action = HEAD_RESTORED_ACTION
            parameters = {
                "key_id": key_id(key),
                "found_head": {
                    "last_event_id": head.last_event_id,
                    "last_hash": head.last_hash,
                    "signed": bool(signing_key(head, audit_keys())),
                },
                "continued_after_event_id": newest[0] if newest else None,
            }
            head.last_event_id, head.last_hash = newest if newest else (None, "")
        switch = cls(
            actor=None,
            actor_name="system",
            source=source,
            action=action,
            target={},
            parameters=parameters,
            outcome="success",
            client_ip=client_ip,
            request_id=request_id,
        )
        cls._append(head, switch, key)
        return True


# Every audited change runs the three statements below inside its event's transaction. Written by hand: the ORM
# took several times the statements' own time to build them (~0.15 ms each; an event went from ~2 ms to ~1 ms).
_HEAD_COLUMNS = ("id", "last_hash", "last_event_id", "key_id", "mac")


def _execute(sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() if cursor.description else None


def _newest_event() -> tuple[int, str] | None:
    """(id, hash) of the newest event."""
    newest = _execute(f"SELECT id, hash FROM {AuditEvent._meta.db_table} ORDER BY id DESC LIMIT 1", [])
    return cast(tuple[int, str] | None, newest)


def _locked_head_row() -> AuditChainHead | None:
    connection = transaction.get_connection()
    # FOR UPDATE on PostgreSQL; SQLite has none, and its IMMEDIATE transaction holds the whole database instead.
    lock = f" {connection.ops.for_update_sql()}" if connection.features.has_select_for_update else ""
    row = _execute(
        f"SELECT {', '.join(_HEAD_COLUMNS)} FROM {AuditChainHead._meta.db_table} WHERE id = %s{lock}",
        [AuditChainHead.ROW_ID],
    )
    return None if row is None else AuditChainHead.from_db(connection.alias, list(_HEAD_COLUMNS), row)


def locked_chain_head() -> AuditChainHead:
    head = _locked_head_row()
    if head is not None:
        return head
    # First event ever, or the head was deleted. Only the former gets a signed head: the latter is
    # left unsigned for the next append to record as restored. Two writers racing here both INSERT
    # the same primary key; the loser waits, gets IntegrityError, and reads the row.
    head = AuditChainHead(pk=AuditChainHead.ROW_ID)
    if not AuditEvent.objects.exists():
        head.key_id = key_id(audit_keys()[0])
        head.mac = head_mac(head, audit_keys()[0])
    AuditChainHead.objects.get_or_create(pk=AuditChainHead.ROW_ID, defaults={"key_id": head.key_id, "mac": head.mac})
    return AuditChainHead.objects.select_for_update().get(pk=AuditChainHead.ROW_ID)
