import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from dashboard.core.clusters import ClusterRecord
from dashboard.tenancy.reservations import QuotaLedger, Reservation


class CephCluster(ClusterRecord):
    """How Berth reaches one Ceph cluster.

    Two connection styles, as librados offers them: a ceph.conf plus a keyring, or a monitor
    address plus a file holding the client's key. Keys stay in files the operator controls;
    the database only ever holds their paths.
    """

    client_name = models.CharField(
        max_length=128, default="client.admin", help_text="The cephx entity Berth authenticates as, e.g. client.berth."
    )
    conf_path = models.CharField("ceph.conf path", max_length=1024, blank=True)
    keyring_path = models.CharField(
        max_length=1024, blank=True, help_text="Keyring holding the client's key (with ceph.conf)."
    )
    mon_host = models.CharField(
        max_length=512, blank=True, help_text="Monitor addresses, e.g. v2:10.0.0.1:3300 (instead of ceph.conf)."
    )
    key_path = models.CharField(
        max_length=1024, blank=True, help_text="File holding only the client's base64 key (with mon host)."
    )
    # Off by default: turning it on makes trash entries without a protection period go within the hour,
    # where before they stayed restorable until someone purged them.
    purge_expired_trash = models.BooleanField(
        default=False,
        help_text="Purge RBD trash entries whose protection has ended automatically, every "
        "BERTH_TRASH_PURGE_MINUTES minutes, in every RBD pool of this cluster.",
    )

    class Meta(ClusterRecord.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_ceph_cluster"
            ),
        ]

    def clean(self):
        by_conf = bool(self.conf_path)
        by_mon = bool(self.mon_host)
        if by_conf == by_mon:
            raise ValidationError(
                "Give either a ceph.conf path (with a keyring) or a monitor host "
                "(with a key file), not both and not neither."
            )
        if by_conf and not self.keyring_path:
            raise ValidationError({"keyring_path": "A keyring path is required with a ceph.conf path."})
        if by_mon and not self.key_path:
            raise ValidationError({"key_path": "A key file path is required with a monitor host."})
        if not self.client_name.startswith("client."):
            raise ValidationError({"client_name": "Ceph client names start with 'client.', e.g. client.berth."})


# --- Tenancy: which tenant owns which pool or RBD namespace, and its storage limits ----------


class StorageBinding(models.Model):
    """A tenant owns an RBD namespace of a pool, or (namespace empty) the whole pool."""

    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="storage_bindings")
    cluster = models.ForeignKey(CephCluster, on_delete=models.PROTECT, related_name="+")
    pool = models.CharField(max_length=255)
    namespace = models.CharField(max_length=255, blank=True, help_text="Empty: the whole pool.")
    # Names the binding's Ceph keys: a slug can be renamed and a primary key reused by another
    # database, and a key named after either could end up taken for another tenant's.
    key_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        # The tenancy models were dashboard's at first; their tables kept their names when they moved here.
        db_table = "dashboard_storagebinding"
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
        if not self.cluster_id:
            return
        others = StorageBinding.objects.filter(cluster_id=self.cluster_id, pool=self.pool).exclude(pk=self.pk)
        candidates = others.filter(namespace="") if self.namespace else others
        clash = candidates.exclude(tenant_id=self.tenant_id).first()
        if clash is not None:
            raise ValidationError(
                f"{clash} already belongs to tenant {clash.tenant}; a pool and the namespaces in "
                "it belong to one tenant at most."
            )


class TenantKeyEntity(models.Model):
    """A cephx entity Berth minted for a binding (its name, never its key), recorded before it is minted.

    Berth's own client may not list Ceph's entities (`auth ls` would hand it every key, client.admin's
    included), so this is how Berth knows which keys to revoke when a binding goes or moves, and
    which `client.berth-tenant-*` entities outlived theirs (binding empty). Deleting or moving a
    binding that still has entities here is refused (storage/signals.py) until they are revoked.
    """

    cluster = models.ForeignKey(CephCluster, on_delete=models.CASCADE, related_name="+")
    entity = models.CharField(max_length=255)
    binding = models.ForeignKey(
        StorageBinding, on_delete=models.SET_NULL, null=True, blank=True, related_name="key_entities"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cluster__name", "entity"]
        constraints = [models.UniqueConstraint(fields=["cluster", "entity"], name="one_record_per_ceph_entity")]

    def __str__(self) -> str:
        return f"{self.entity} on {self.cluster}"


class StorageQuota(models.Model):
    """A tenant's storage limits; an empty limit is unlimited. Usage is read from Ceph, never stored."""

    tenant = models.OneToOneField("tenancy.Tenant", on_delete=models.CASCADE, related_name="storage_quota")
    max_images = models.PositiveIntegerField(null=True, blank=True)
    max_provisioned_gib = models.PositiveIntegerField(
        "max provisioned GiB", null=True, blank=True, help_text="Sum of the sizes of the tenant's images."
    )
    max_image_gib = models.PositiveIntegerField("max GiB per image", null=True, blank=True)
    max_snapshots = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        db_table = "dashboard_storagequota"

    def __str__(self) -> str:
        return f"storage quota of {self.tenant}"


class StorageQuotaLedger(QuotaLedger):
    """The row a tenant's storage admissions lock, counting the changes that settled (see
    dashboard/tenancy/reservations.py)."""

    class Meta:
        db_table = "storage_quotaledger"

    def __str__(self) -> str:
        return f"storage quota ledger of {self.tenant}"


class QuotaReservation(Reservation):
    """What one change in flight will leave behind in one image, held against the tenant's
    storage quota until the change settles (or the reservation expires).

    The image is named by its id when it exists (resize, rollback, snapshot, restore), by its
    place and name when the change creates it (create, copy, clone). It is counted by what it
    adds to what Ceph shows: nothing once the image exists with at least `size` bytes and
    `snapshots` snapshots, so a change that has reached Ceph but not yet settled is not counted
    twice; all of it (one more image included) while Ceph shows no such image.
    """

    task = models.OneToOneField(
        "tasks.BackgroundTask", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    cluster = models.ForeignKey(CephCluster, on_delete=models.CASCADE, related_name="+")
    pool = models.CharField(max_length=255)
    namespace = models.CharField(max_length=255, blank=True)
    image_name = models.CharField(max_length=255, blank=True, help_text="The image the change creates.")
    image_id = models.CharField(max_length=64, blank=True, help_text="The existing image the change alters.")
    size = models.PositiveBigIntegerField(default=0, help_text="Bytes the image will have at least.")
    snapshots = models.PositiveIntegerField(default=0, help_text="Snapshots the image will have at least.")

    class Meta:
        db_table = "dashboard_quotareservation"

    def __str__(self) -> str:
        image = self.image_id or self.image_name
        return f"{self.size} bytes, {self.snapshots} snapshots for {self.tenant}: {self.pool}/{self.namespace}/{image}"


class UsageSample(models.Model):
    """Storage in use at one moment, for the 30-day trends on the overview (per pool) and the tenant
    pages (per tenant). Taken by the scheduler's `storage.usage.sample` job; Ceph stays the record of
    what is in use now."""

    time = models.DateTimeField(db_index=True)
    cluster = models.ForeignKey(CephCluster, on_delete=models.CASCADE, related_name="+")
    # A pool's sample names the pool; a tenant's names the tenant (and sums all its places on the cluster).
    pool = models.CharField(max_length=255, blank=True)
    tenant = models.ForeignKey("tenancy.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    stored_bytes = models.PositiveBigIntegerField(null=True, help_text="A pool's data as `ceph df` reports it")
    provisioned_bytes = models.PositiveBigIntegerField(null=True, help_text="Sum of a tenant's image sizes")
    images = models.PositiveIntegerField(null=True)
    used_bytes = models.PositiveBigIntegerField(
        null=True, help_text="What a tenant's live images use, as `rbd du` counts it (fast-diff images only)"
    )
    unmeasured_images = models.PositiveIntegerField(
        null=True, help_text="A tenant's live images without a usable fast-diff, left out of the used bytes"
    )

    class Meta:
        ordering = ["time"]
        indexes = [models.Index(fields=["cluster", "pool", "time"]), models.Index(fields=["tenant", "time"])]

    def __str__(self) -> str:
        return f"{self.cluster} {self.pool or self.tenant} at {self.time:%Y-%m-%d %H:%M}"


class SnapshotSchedule(models.Model):
    """Snapshots taken on a schedule, of one image or of every image in an RBD namespace (or a pool's
    default namespace), keeping the newest `keep` of the ones it took (storage/services/snapshot_schedules.py).

    `next_run` is claimed with a compare-and-set update before a run, so a run is taken once even
    when two runs of the periodic job overlap or a worker dies and another takes over."""

    HOURLY, DAILY, WEEKLY = "hourly", "daily", "weekly"
    FREQUENCIES = [(HOURLY, "Hourly"), (DAILY, "Daily"), (WEEKLY, "Weekly")]
    OK, STOPPED_AT_QUOTA, PROBLEMS = "ok", "stopped_at_quota", "problems"
    OUTCOMES = [(OK, "Succeeded"), (STOPPED_AT_QUOTA, "Stopped at the snapshot quota"), (PROBLEMS, "Had problems")]

    cluster = models.ForeignKey(CephCluster, on_delete=models.PROTECT, related_name="+")
    pool = models.CharField(max_length=255)
    namespace = models.CharField(max_length=255, blank=True, help_text="Empty: the pool's default namespace.")
    image = models.CharField(max_length=255, blank=True, help_text="Empty: every image in the namespace.")
    frequency = models.CharField(max_length=10, choices=FREQUENCIES)
    keep = models.PositiveSmallIntegerField(help_text="How many of its own snapshots it keeps per image")
    created = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    next_run = models.DateTimeField(db_index=True)
    last_run = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=20, choices=OUTCOMES, blank=True)
    last_message = models.TextField(blank=True)

    class Meta:
        ordering = ["cluster__name", "pool", "namespace", "image", "frequency"]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "pool", "namespace", "image", "frequency"],
                name="one_snapshot_schedule_per_frequency",
            ),
        ]

    def __str__(self) -> str:
        place = "/".join(part for part in (self.pool, self.namespace, self.image) if part)
        return f"{place} {self.frequency} keep {self.keep}"
