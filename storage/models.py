from django.core.exceptions import ValidationError
from django.db import models

from dashboard.core.clusters import ClusterRecord


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


class QuotaReservation(models.Model):
    """Room held for an image a background copy will create, counted against the tenant's quota
    while the task is queued or running (Ceph knows of the image only once the copy has begun).
    Once the task has finished the image itself is counted, so nothing needs cleaning up."""

    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    task = models.OneToOneField("tasks.BackgroundTask", on_delete=models.CASCADE, related_name="+")
    images = models.PositiveIntegerField(default=0)
    provisioned_bytes = models.PositiveBigIntegerField(default=0)

    class Meta:
        db_table = "dashboard_quotareservation"

    def __str__(self) -> str:
        return f"{self.provisioned_bytes} bytes for {self.tenant} until task {self.task_id} ends"


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

    class Meta:
        ordering = ["time"]
        indexes = [models.Index(fields=["cluster", "pool", "time"]), models.Index(fields=["tenant", "time"])]

    def __str__(self) -> str:
        return f"{self.cluster} {self.pool or self.tenant} at {self.time:%Y-%m-%d %H:%M}"
