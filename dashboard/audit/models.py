import contextvars
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, cast

from django.conf import settings
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


def chain_hash(event: "AuditEvent") -> str:
    """sha256 over a canonical JSON of the event's content and its predecessor's hash.

    This defines the stored chain: changing it makes every existing event fail verification.
    """
    content = {name: getattr(event, name) for name in HASHED_FIELDS}
    content["time"] = event.time.astimezone(dt.UTC).isoformat(timespec="microseconds")
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class AuditChainHead(models.Model):
    """The newest event's hash, in one row that every append locks.

    Locking this row (SELECT ... FOR UPDATE) is what keeps concurrent writers on PostgreSQL from
    both reading the same predecessor and forking the chain. It also lets `verify_audit` notice
    events deleted from the end of the chain.
    """

    ROW_ID = 1

    last_hash = models.CharField(max_length=64, blank=True)
    last_event_id = models.BigIntegerField(null=True, blank=True)

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
    def record(cls, *, actor: "User | None", tenant: AuditTenant | None = None, **fields: Any) -> "AuditEvent":
        """Append one event to the chain.

        On PostgreSQL the chain head row is locked until the surrounding transaction ends, so
        appends are serialised. SQLite has one writer at a time for the whole database: a second
        transaction that read the head cannot commit a write on top of a stale read (it gets
        "database is locked" instead), so the chain cannot fork there either.
        """
        event = cls(
            actor=actor,
            actor_name=actor.get_username() if actor else "system",
            tenant_slug=getattr(tenant, "slug", tenant) or "",
            **fields,
        )
        # The database normalises addresses (IPv6 compression); hash what will be read back.
        event.client_ip = cast(models.GenericIPAddressField, cls._meta.get_field("client_ip")).to_python(
            event.client_ip
        )
        with transaction.atomic():
            head = locked_chain_head()
            event.time = timezone.now()
            event.prev_hash = head.last_hash
            event.hash = chain_hash(event)
            event.save()
            head.last_hash, head.last_event_id = event.hash, event.pk
            head.save(update_fields=["last_hash", "last_event_id"])
        return event


def locked_chain_head() -> AuditChainHead:
    try:
        return AuditChainHead.objects.select_for_update().get(pk=AuditChainHead.ROW_ID)
    except AuditChainHead.DoesNotExist:
        pass
    # First event ever (or the head was lost): continue from the newest event. Two writers racing
    # here both INSERT the same primary key; the loser waits, gets IntegrityError, and reads the row.
    newest = AuditEvent.objects.order_by("-id").only("id", "hash").first()
    AuditChainHead.objects.get_or_create(
        pk=AuditChainHead.ROW_ID,
        defaults={"last_hash": newest.hash if newest else "", "last_event_id": newest.pk if newest else None},
    )
    return AuditChainHead.objects.select_for_update().get(pk=AuditChainHead.ROW_ID)
