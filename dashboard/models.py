import contextvars
import datetime as dt
import hashlib
import json
import uuid
from contextlib import contextmanager

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone


class AuditLogIsAppendOnly(Exception):
    """Raised for any attempt to rewrite or remove audit events outside pruning."""


# Set only while `prune_audit` removes events it has archived; nothing else may delete them.
_prune_in_progress: contextvars.ContextVar[bool] = contextvars.ContextVar("berth_audit_prune", default=False)


@contextmanager
def pruning_permitted():
    token = _prune_in_progress.set(True)
    try:
        yield
    finally:
        _prune_in_progress.reset(token)


class AuditEventQuerySet(models.QuerySet):
    def delete(self):
        if not _prune_in_progress.get():
            raise AuditLogIsAppendOnly("Audit events are removed only by `manage.py prune_audit`, which archives them.")
        return super().delete()

    def update(self, **kwargs):
        # Deleting a user sets `actor` to NULL through an update; the copied, hashed `actor_name`
        # keeps who it was. Every other field is fixed once written.
        if set(kwargs) - {"actor"}:
            raise AuditLogIsAppendOnly("Audit events cannot be changed once written.")
        return super().update(**kwargs)

    def bulk_create(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("Audit events are written one at a time by AuditEvent.record, which chains them.")

    def bulk_update(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("Audit events cannot be changed once written.")


# The fields a hash covers. `actor` (the foreign key) is left out on purpose: it becomes NULL when the
# user is deleted, and `actor_name` already records who it was.
HASHED_FIELDS = ("time", "actor_name", "tenant_slug", "source", "action", "target", "parameters", "outcome",
                 "error", "duration_ms", "client_ip", "request_id", "prev_hash")


def chain_hash(event) -> str:
    """sha256 over a canonical JSON of the event's content and its predecessor's hash.

    This defines the stored chain: changing it makes every existing event fail verification.
    """
    content = {name: getattr(event, name) for name in HASHED_FIELDS}
    content["time"] = event.time.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")
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
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
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
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.outcome}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditLogIsAppendOnly("Audit events cannot be changed once written.")
        if not self.hash:
            raise AuditLogIsAppendOnly("Write audit events with AuditEvent.record, which chains them.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("Audit events are removed only by `manage.py prune_audit`, which archives them.")

    @classmethod
    def record(cls, *, actor, tenant=None, **fields) -> "AuditEvent":
        """Append one event to the chain.

        On PostgreSQL the chain head row is locked until the surrounding transaction ends, so
        appends are serialised. SQLite has one writer at a time for the whole database: a second
        transaction that read the head cannot commit a write on top of a stale read (it gets
        "database is locked" instead), so the chain cannot fork there either.
        """
        event = cls(actor=actor, actor_name=actor.get_username() if actor else "system",
                    tenant_slug=getattr(tenant, "slug", tenant) or "", **fields)
        # The database normalises addresses (IPv6 compression); hash what will be read back.
        event.client_ip = cls._meta.get_field("client_ip").to_python(event.client_ip)
        with transaction.atomic():
            head = _locked_chain_head()
            event.time = timezone.now()
            event.prev_hash = head.last_hash
            event.hash = chain_hash(event)
            event.save()
            head.last_hash, head.last_event_id = event.hash, event.pk
            head.save(update_fields=["last_hash", "last_event_id"])
        return event


def _locked_chain_head() -> AuditChainHead:
    try:
        return AuditChainHead.objects.select_for_update().get(pk=AuditChainHead.ROW_ID)
    except AuditChainHead.DoesNotExist:
        pass
    # First event ever (or the head was lost): continue from the newest event. Two writers racing
    # here both INSERT the same primary key; the loser waits, gets IntegrityError, and reads the row.
    newest = AuditEvent.objects.order_by("-id").only("id", "hash").first()
    AuditChainHead.objects.get_or_create(
        pk=AuditChainHead.ROW_ID,
        defaults={"last_hash": newest.hash if newest else "", "last_event_id": newest.pk if newest else None})
    return AuditChainHead.objects.select_for_update().get(pk=AuditChainHead.ROW_ID)


class BackgroundTask(models.Model):
    """A long storage operation (flatten, copy, purge, delete) running outside the web request.

    Kept in the database so every worker process and the API see the same progress, and so a
    finished task can still be looked up after the request that started it is long gone.
    """

    QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
    STATUSES = [(QUEUED, QUEUED), (RUNNING, RUNNING), (SUCCEEDED, SUCCEEDED), (FAILED, FAILED)]
    ACTIVE = (QUEUED, RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, db_index=True, help_text="The action, e.g. storage.image.flatten")
    target = models.JSONField(default=dict)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    # The tenant whose storage the task changes: its members may follow it, its events carry it.
    tenant = models.ForeignKey("Tenant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=STATUSES, default=QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done, 0 to 100")
    message = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} {self.status} {self.progress}%"

    @property
    def is_finished(self) -> bool:
        return self.status not in self.ACTIVE


# --- Tenancy: application teams, their members, the storage they own and their limits ---------


class Tenant(models.Model):
    """An application team. Its members see and change only the storage and secrets bound to it."""

    name = models.CharField(max_length=100, unique=True)
    # The slug names the tenant in URLs, audit events and Ceph key names (client.berth-tenant-<slug>-...).
    slug = models.SlugField(max_length=48, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    VIEWER, OPERATOR, ADMIN = "viewer", "operator", "admin"
    ROLES = [(VIEWER, "viewer: read"), (OPERATOR, "operator: create, resize, snapshot, clone, secrets"),
             (ADMIN, "admin: also delete, purge and manage members")]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tenant_memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=ROLES, default=VIEWER)

    class Meta:
        ordering = ["tenant__name", "user__username"]
        constraints = [models.UniqueConstraint(fields=["user", "tenant"], name="one_membership_per_user_and_tenant")]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} ({self.role})"


class StorageBinding(models.Model):
    """A tenant owns an RBD namespace of a pool, or (namespace empty) the whole pool."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="storage_bindings")
    cluster = models.ForeignKey("storage.CephCluster", on_delete=models.PROTECT, related_name="+")
    pool = models.CharField(max_length=255)
    namespace = models.CharField(max_length=255, blank=True, help_text="Empty: the whole pool.")

    class Meta:
        ordering = ["cluster__name", "pool", "namespace"]
        constraints = [
            # One owner per place; a whole pool and a namespace inside it cannot go to two tenants
            # either (checked in clean(), which a unique constraint cannot express).
            models.UniqueConstraint(fields=["cluster", "pool", "namespace"], name="one_tenant_per_pool_namespace"),
        ]

    def __str__(self) -> str:
        return f"{self.cluster}:{self.pool}/{self.namespace}" if self.namespace else f"{self.cluster}:{self.pool}"

    @property
    def is_whole_pool(self) -> bool:
        return not self.namespace

    def clean(self):
        from django.core.exceptions import ValidationError

        if not self.cluster_id:
            return
        others = StorageBinding.objects.filter(cluster_id=self.cluster_id, pool=self.pool).exclude(pk=self.pk)
        clash = others.filter(namespace="") if self.namespace else others
        clash = clash.exclude(tenant_id=self.tenant_id).first()
        if clash is not None:
            raise ValidationError(f"{clash} already belongs to tenant {clash.tenant}; a pool and the namespaces in "
                                  "it belong to one tenant at most.")


class StorageQuota(models.Model):
    """A tenant's storage limits; an empty limit is unlimited. Usage is read from Ceph, never stored."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="storage_quota")
    max_images = models.PositiveIntegerField(null=True, blank=True)
    max_provisioned_gib = models.PositiveIntegerField("max provisioned GiB", null=True, blank=True,
                                                      help_text="Sum of the sizes of the tenant's images.")
    max_image_gib = models.PositiveIntegerField("max GiB per image", null=True, blank=True)
    max_snapshots = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"storage quota of {self.tenant}"


class RegistryQuota(models.Model):
    """Where a tenant may put image-pull secrets, and how many per namespace."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="registry_quota")
    kube_cluster = models.ForeignKey("registry.KubeCluster", on_delete=models.PROTECT, related_name="+")
    namespaces = models.JSONField(default=list, blank=True,
                                  help_text='Kubernetes namespaces the tenant may use, e.g. ["team-a", "team-a-ci"].')
    max_pull_secrets_per_namespace = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"registry quota of {self.tenant}"


class QuotaReservation(models.Model):
    """Room held for an image a background copy will create, counted against the tenant's quota
    while the task is queued or running (Ceph knows of the image only once the copy has begun).
    Once the task has finished the image itself is counted, so nothing needs cleaning up."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    task = models.OneToOneField(BackgroundTask, on_delete=models.CASCADE, related_name="+")
    images = models.PositiveIntegerField(default=0)
    provisioned_bytes = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.provisioned_bytes} bytes for {self.tenant} until task {self.task_id} ends"
