"""Which tenant owns which pool or RBD namespace, and whether a storage change fits its quota.

Built on the core tenancy rules (dashboard/tenancy/services.py) and called by every storage
service: a place outside the actor's tenants answers like one that does not exist, and a change
that would take a tenant over a limit is refused before it reaches Ceph.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import cast, overload

from django.db import transaction

from dashboard.audit.services import audit_tenant
from dashboard.core.actors import Actor
from dashboard.tasks.models import BackgroundTask
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Tenant
from storage.models import CephCluster, QuotaReservation, StorageBinding, StorageQuota
from storage.services.tenant_usage import StorageUsage, storage_usage

GIB = 1 << 30


# --- Storage places ----------------------------------------------------------------------------


def binding_for(cluster: CephCluster, pool: str, namespace: str) -> StorageBinding | None:
    """The binding that owns a place: its namespace's, else its whole pool's."""
    bindings = {
        binding.namespace: binding
        for binding in StorageBinding.objects.select_related("tenant").filter(
            cluster=cluster, pool=pool, namespace__in={namespace, ""}
        )
    }
    return bindings.get(namespace) or bindings.get("")


def _place_name(pool: str, namespace: str) -> str:
    return f"Pool {pool} namespace {namespace}" if namespace else f"Pool {pool}"


def storage_scope(
    *, actor: Actor, cluster: CephCluster, pool: str, namespace: str = "", role: str = tenancy.VIEWER
) -> Tenant | None:
    """The tenant owning pool/namespace (None: no tenant's), once the actor may act there with `role`.

    Tenant users get 404 for places outside their tenants; platform admins may act anywhere, and
    when they act in a tenant's place the tenant's quota still applies.
    """
    binding = binding_for(cluster, pool, namespace)
    tenant = binding.tenant if binding else None
    if not tenancy.is_platform_admin(actor):
        if tenant is None or tenancy.role_in(actor, tenant) is None:
            # The event must not name the tenant either: that would tell the log reader whose place it is,
            # which is fine, but it must not differ between "exists" and "does not exist" for the caller.
            raise tenancy.deny_access(
                actor, _place_name(pool, namespace), {"cluster": str(cluster), "pool": pool, "namespace": namespace}
            )
        audit_tenant(tenant)
        tenancy.require_role(actor, tenant, role)
    elif tenant is not None:
        audit_tenant(tenant)
    return tenant


def visible_pools(actor: Actor, cluster: CephCluster) -> set[str] | None:
    """Pools the actor may list (None: all of them)."""
    if tenancy.is_platform_admin(actor):
        return None
    return set(
        StorageBinding.objects.filter(cluster=cluster, tenant__in=tenancy.tenants_for(actor)).values_list(
            "pool", flat=True
        )
    )


def visible_namespaces(actor: Actor, cluster: CephCluster, pool: str) -> set[str] | None:
    """Namespaces of `pool` the actor may list (None: all of them, as its owner or a platform admin).
    A pool the actor has nothing in is a 404."""
    if tenancy.is_platform_admin(actor):
        return None
    owned = StorageBinding.objects.filter(cluster=cluster, pool=pool, tenant__in=tenancy.tenants_for(actor))
    namespaces = set(owned.values_list("namespace", flat=True))
    if not namespaces:
        raise tenancy.deny_access(actor, _place_name(pool, ""), {"cluster": str(cluster), "pool": pool})
    return None if "" in namespaces else namespaces


def storage_places(tenant: Tenant) -> list[tuple[CephCluster, str, str | None]]:
    """(cluster, pool, namespace) of each binding; namespace None for a whole pool."""
    return [
        (binding.cluster, binding.pool, binding.namespace or None)
        for binding in tenant.storage_bindings.select_related("cluster")
    ]


@dataclass(frozen=True)
class StorageRequest:
    """What a change would add to the tenant's usage."""

    images: int = 0
    provisioned_bytes: int = 0
    largest_image_bytes: int = 0
    snapshots: int = 0


@overload
def gib_to_bytes(value: int) -> int: ...


@overload
def gib_to_bytes(value: None) -> None: ...


def gib_to_bytes(value: int | None) -> int | None:
    return None if value is None else value * GIB


def storage_limit_checks(
    quota: StorageQuota, usage: "StorageUsage | _LazyUsage", request: StorageRequest
) -> list[tenancy.LimitCheck]:
    """Each limit the request increases. Limits it does not increase are not checked at all, so a
    tenant already over a lowered limit can still shrink and delete (as Cinder does)."""
    checks = []
    if request.images > 0:
        checks.append(tenancy.LimitCheck("max_images", "images", usage.images, quota.max_images, request.images))
    if request.provisioned_bytes > 0:
        checks.append(
            tenancy.LimitCheck(
                "max_provisioned_gib",
                "provisioned storage",
                usage.provisioned_bytes,
                gib_to_bytes(quota.max_provisioned_gib),
                request.provisioned_bytes,
                is_bytes=True,
            )
        )
    if request.largest_image_bytes > 0:
        checks.append(
            tenancy.LimitCheck(
                "max_image_gib",
                "images",
                0,
                gib_to_bytes(quota.max_image_gib),
                request.largest_image_bytes,
                is_bytes=True,
                per_item=True,
            )
        )
    if request.snapshots > 0:
        checks.append(
            tenancy.LimitCheck("max_snapshots", "snapshots", usage.snapshots, quota.max_snapshots, request.snapshots)
        )
    return checks


def _reserved(tenant: Tenant) -> StorageUsage:
    rows = QuotaReservation.objects.filter(tenant=tenant, task__status__in=BackgroundTask.ACTIVE)
    return StorageUsage(
        images=sum(row.images for row in rows), provisioned_bytes=sum(row.provisioned_bytes for row in rows)
    )


def tenant_storage_usage(tenant: Tenant) -> StorageUsage:
    """Usage from Ceph, plus room held for copies still running."""
    return storage_usage(places=storage_places(tenant)) + _reserved(tenant)


@contextmanager
def quota_guard(*, tenant: Tenant | None, request: StorageRequest) -> Iterator[None]:
    """Run the enclosed Ceph change only if `request` fits the tenant's storage quota.

    Serialised per tenant: the quota row is locked (SELECT ... FOR UPDATE) for the whole block, the
    usage is re-read from Ceph inside the lock and the Ceph change is made while it is still held,
    so two requests that each fit alone cannot both pass a check made before the other's image
    existed. A lock rather than reservations because Ceph is the only record of usage and the
    changes guarded here (create, grow, snapshot, clone) take milliseconds; background copies, which
    take longer, hold a QuotaReservation instead (see `reserve_for_task`).
    """
    if tenant is None:
        yield
        return
    with tenancy.tenant_lock(tenant), transaction.atomic():
        quota = StorageQuota.objects.select_for_update().filter(tenant=tenant).first()
        if quota is not None:
            checks = storage_limit_checks(quota, _LazyUsage(tenant), request)
            for check in checks:
                if check.excess:
                    raise tenancy.quota_error(tenant, check)
        yield


class _LazyUsage:
    """Reads Ceph only if a limit that needs usage is checked (the per-image limit does not)."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self._usage: StorageUsage | None = None

    def __getattr__(self, name: str) -> int:
        if self._usage is None:
            self._usage = tenant_storage_usage(self.tenant)
        return cast(int, getattr(self._usage, name))


def reserve_for_task(*, tenant: Tenant | None, task: BackgroundTask, request: StorageRequest) -> None:
    """Hold room for what a background task will create; call inside `quota_guard` for the same
    request, so the check and the reservation happen under one lock."""
    if tenant is not None:
        QuotaReservation.objects.create(
            tenant=tenant, task=task, images=request.images, provisioned_bytes=request.provisioned_bytes
        )
