"""A tenant's storage quota: setting it (and Ceph's own pool quota behind it) and showing usage against it."""

from dataclasses import dataclass

from dashboard.audit.services import audited_action
from dashboard.core.actors import Actor
from dashboard.core.units import format_binary_size
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Tenant
from storage.models import StorageQuota
from storage.services.pools import pool_get, pool_set_quota
from storage.services.tenancy import gib_to_bytes, tenant_storage_usage


@dataclass(frozen=True)
class UsageRow:
    label: str
    used: int
    limit: int | None
    is_bytes: bool

    @property
    def near(self) -> float | None:
        """Where a <meter> turns to warning: 80 % of the limit."""
        return None if self.limit is None else self.limit * 0.8

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)


def tenant_usage_rows(*, actor: Actor, tenant: Tenant) -> list[UsageRow]:
    tenancy.require_role(actor, tenant, tenancy.VIEWER)
    quota = StorageQuota.objects.filter(tenant=tenant).first() or StorageQuota(tenant=tenant)
    usage = tenant_storage_usage(tenant)
    return [
        UsageRow("Images", usage.images, quota.max_images, False),
        UsageRow("Provisioned", usage.provisioned_bytes, gib_to_bytes(quota.max_provisioned_gib), True),
        UsageRow("Snapshots", usage.snapshots, quota.max_snapshots, False),
    ]


def storage_quota_preview(*, actor: Actor, tenant: Tenant | None, adds_bytes: int) -> str:
    """What a create form says about a request of `adds_bytes` ("" when no limit applies)."""
    if tenant is None:
        return ""
    quota = StorageQuota.objects.filter(tenant=tenant).first()
    if quota is None or quota.max_provisioned_gib is None:
        return ""
    remaining = max(0, gib_to_bytes(quota.max_provisioned_gib) - tenant_storage_usage(tenant).provisioned_bytes)
    fits = "" if adds_bytes <= remaining else " — more than is left, so it would be refused"
    return (
        f"This image uses {format_binary_size(adds_bytes)} of your remaining {format_binary_size(remaining)} "
        f"(tenant {tenant.slug}){fits}."
    )


@audited_action(
    "tenancy.storage_quota.set",
    target=("tenant",),
    params=("max_images", "max_provisioned_gib", "max_image_gib", "max_snapshots"),
)
def storage_quota_set(
    *,
    actor: Actor,
    tenant: Tenant,
    max_images: int | None,
    max_provisioned_gib: int | None,
    max_image_gib: int | None,
    max_snapshots: int | None,
) -> StorageQuota:
    tenancy.require_platform_admin(actor, "change quotas")
    quota, _ = StorageQuota.objects.get_or_create(tenant=tenant)
    quota.max_images, quota.max_provisioned_gib = max_images, max_provisioned_gib
    quota.max_image_gib, quota.max_snapshots = max_image_gib, max_snapshots
    quota.save()
    tenant_pool_quotas_apply(actor=actor, tenant=tenant)
    return quota


def tenant_pool_quotas_apply(*, actor: Actor, tenant: Tenant) -> None:
    """Set each whole pool's Ceph quota (`max_bytes`) to the tenant's provisioned limit: a second
    line of defence that Ceph itself enforces on writes, even for clients that bypass Berth."""
    tenancy.require_platform_admin(actor, "set Ceph pool quotas")
    quota = StorageQuota.objects.filter(tenant=tenant).first()
    max_bytes = gib_to_bytes(quota.max_provisioned_gib) if quota else None
    for binding in tenant.storage_bindings.select_related("cluster").filter(namespace=""):
        pool = pool_get(actor=actor, cluster=binding.cluster, name=binding.pool)
        if pool.quota_max_bytes != max_bytes:
            pool_set_quota(
                actor=actor,
                cluster=binding.cluster,
                name=binding.pool,
                max_bytes=max_bytes,
                max_objects=pool.quota_max_objects,
            )
