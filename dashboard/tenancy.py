"""Tenancy rules, written once and called by every service: who may see a place, who may change
it, and whether a change fits the tenant's quota.

Platform admins (Django staff) see every tenant and place. Anyone else sees only the places bound
to tenants they are members of; asking for anything else answers exactly like asking for
something that does not exist (404, code "tenant_denied", the same words whether it exists or
not), and the attempt is recorded as denied in the audit log.
"""

import threading
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet

from dashboard.audit import audit_tenant, audited_action, inside_recording, record_event
from dashboard.errors import InvalidInput, NotFound, PermissionDenied, QuotaExceeded
from dashboard.models import (
    BackgroundTask,
    Membership,
    QuotaReservation,
    RegistryQuota,
    StorageBinding,
    StorageQuota,
    Tenant,
)
from dashboard.units import format_binary_size

VIEWER, OPERATOR, ADMIN = Membership.VIEWER, Membership.OPERATOR, Membership.ADMIN
_RANK = {VIEWER: 1, OPERATOR: 2, ADMIN: 3}
GIB = 1 << 30


def is_platform_admin(actor) -> bool:
    return bool(getattr(actor, "is_staff", False) and getattr(actor, "is_active", False))


def administered_tenant_slugs(actor) -> list[str]:
    """The tenants the actor is an admin of (their Activity is the actor's to read)."""
    if not getattr(actor, "is_authenticated", False):
        return []
    return list(Membership.objects.filter(user=actor, role=ADMIN).values_list("tenant__slug", flat=True))


def tenants_for(actor) -> QuerySet:
    if is_platform_admin(actor):
        return Tenant.objects.all()
    if not getattr(actor, "is_authenticated", False):
        return Tenant.objects.none()
    return Tenant.objects.filter(memberships__user=actor).distinct()


def role_in(actor, tenant: Tenant) -> str | None:
    """The actor's role in the tenant; platform admins act as the tenant's admins."""
    if is_platform_admin(actor):
        return ADMIN
    if not getattr(actor, "is_authenticated", False):
        return None
    return Membership.objects.filter(user=actor, tenant=tenant).values_list("role", flat=True).first()


def _deny(actor, what: str, target: dict) -> NotFound:
    error = NotFound(f"{what} does not exist, or is not one of your tenants'.", code="tenant_denied")
    # Inside an audited change the change's own event records the refusal; a read has no event of its own.
    if not inside_recording():
        record_event(actor=actor, action="tenancy.access", target=target, parameters={}, outcome="denied",
                     error=error.message)
    return error


def require_role(actor, tenant: Tenant, role: str) -> None:
    """Members below `role` get 403 (they may know the tenant exists); non-members get 404."""
    held = role_in(actor, tenant)
    if held is None:
        raise _deny(actor, f"Tenant {tenant.slug}", {"tenant": tenant.slug})
    if _RANK[held] < _RANK[role]:
        raise PermissionDenied(f"This needs the {role} role in tenant {tenant.slug}; you are {held}. "
                               f"Ask one of the tenant's admins.", code="role_denied")


def require_platform_admin(actor, what: str) -> None:
    if not is_platform_admin(actor):
        raise PermissionDenied(f"Only platform admins may {what}.", code="role_denied")


# --- Storage places ----------------------------------------------------------------------------


def binding_for(cluster, pool: str, namespace: str) -> StorageBinding | None:
    """The binding that owns a place: its namespace's, else its whole pool's."""
    bindings = {binding.namespace: binding for binding in StorageBinding.objects.select_related("tenant").filter(
        cluster=cluster, pool=pool, namespace__in={namespace, ""})}
    return bindings.get(namespace) or bindings.get("")


def _place_name(pool: str, namespace: str) -> str:
    return f"Pool {pool} namespace {namespace}" if namespace else f"Pool {pool}"


def storage_scope(*, actor, cluster, pool: str, namespace: str = "", role: str = VIEWER) -> Tenant | None:
    """The tenant owning pool/namespace (None: no tenant's), once the actor may act there with `role`.

    Tenant users get 404 for places outside their tenants; platform admins may act anywhere, and
    when they act in a tenant's place the tenant's quota still applies.
    """
    binding = binding_for(cluster, pool, namespace)
    tenant = binding.tenant if binding else None
    if not is_platform_admin(actor):
        if tenant is None or role_in(actor, tenant) is None:
            # The event must not name the tenant either: that would tell the log reader whose place it is,
            # which is fine, but it must not differ between "exists" and "does not exist" for the caller.
            raise _deny(actor, _place_name(pool, namespace),
                        {"cluster": str(cluster), "pool": pool, "namespace": namespace})
        audit_tenant(tenant)
        require_role(actor, tenant, role)
    elif tenant is not None:
        audit_tenant(tenant)
    return tenant


def visible_pools(actor, cluster) -> set[str] | None:
    """Pools the actor may list (None: all of them)."""
    if is_platform_admin(actor):
        return None
    return set(StorageBinding.objects.filter(cluster=cluster, tenant__in=tenants_for(actor))
               .values_list("pool", flat=True))


def visible_namespaces(actor, cluster, pool: str) -> set[str] | None:
    """Namespaces of `pool` the actor may list (None: all of them, as its owner or a platform admin).
    A pool the actor has nothing in is a 404."""
    if is_platform_admin(actor):
        return None
    owned = StorageBinding.objects.filter(cluster=cluster, pool=pool, tenant__in=tenants_for(actor))
    namespaces = set(owned.values_list("namespace", flat=True))
    if not namespaces:
        raise _deny(actor, _place_name(pool, ""), {"cluster": str(cluster), "pool": pool})
    return None if "" in namespaces else namespaces


def storage_places(tenant: Tenant) -> list[tuple]:
    """(cluster, pool, namespace) of each binding; namespace None for a whole pool."""
    return [(binding.cluster, binding.pool, binding.namespace or None)
            for binding in tenant.storage_bindings.select_related("cluster")]


# --- Quotas ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StorageRequest:
    """What a change would add to the tenant's usage."""

    images: int = 0
    provisioned_bytes: int = 0
    largest_image_bytes: int = 0
    snapshots: int = 0


@dataclass(frozen=True)
class LimitCheck:
    name: str
    label: str
    used: int
    limit: int | None
    adds: int
    is_bytes: bool = False

    @property
    def would_be(self) -> int:
        return self.used + self.adds

    @property
    def excess(self) -> int:
        return 0 if self.limit is None else max(0, self.would_be - self.limit)

    def show(self, value: int) -> str:
        return format_binary_size(value) if self.is_bytes else str(value)


def _gib(value: int | None) -> int | None:
    return None if value is None else value * GIB


def storage_limit_checks(quota: StorageQuota, usage, request: StorageRequest) -> list[LimitCheck]:
    """Each limit the request increases. Limits it does not increase are not checked at all, so a
    tenant already over a lowered limit can still shrink and delete (as Cinder does)."""
    checks = []
    if request.images > 0:
        checks.append(LimitCheck("max_images", "images", usage.images, quota.max_images, request.images))
    if request.provisioned_bytes > 0:
        checks.append(LimitCheck("max_provisioned_gib", "provisioned storage", usage.provisioned_bytes,
                                 _gib(quota.max_provisioned_gib), request.provisioned_bytes, is_bytes=True))
    if request.largest_image_bytes > 0:
        checks.append(LimitCheck("max_image_gib", "size of one image", 0, _gib(quota.max_image_gib),
                                 request.largest_image_bytes, is_bytes=True))
    if request.snapshots > 0:
        checks.append(LimitCheck("max_snapshots", "snapshots", usage.snapshots, quota.max_snapshots,
                                 request.snapshots))
    return checks


def quota_error(tenant: Tenant, check: LimitCheck) -> QuotaExceeded:
    if check.name == "max_image_gib":
        message = (f"Tenant {tenant.slug} allows images of at most {check.show(check.limit)}; this one would be "
                   f"{check.show(check.would_be)}, {check.show(check.excess)} over the limit.")
    else:
        message = (f"Tenant {tenant.slug} would exceed its {check.label} quota: {check.show(check.used)} in use "
                   f"+ {check.show(check.adds)} requested = {check.show(check.would_be)}, limit "
                   f"{check.show(check.limit)} ({check.show(check.excess)} over). Free some up or ask a platform "
                   "admin to raise the limit.")
    return QuotaExceeded(message, extra={"limit": check.name, "used": check.used, "requested": check.adds,
                                         "maximum": check.limit, "excess": check.excess})


def _reserved(tenant: Tenant):
    from storage.services.tenant_usage import StorageUsage

    rows = QuotaReservation.objects.filter(tenant=tenant, task__status__in=BackgroundTask.ACTIVE)
    return StorageUsage(images=sum(row.images for row in rows),
                        provisioned_bytes=sum(row.provisioned_bytes for row in rows))


def tenant_storage_usage(tenant: Tenant):
    """Usage from Ceph, plus room held for copies still running."""
    from storage.services.tenant_usage import storage_usage

    return storage_usage(places=storage_places(tenant)) + _reserved(tenant)


# In-process locks as well as the row lock: SQLite (the embedded default) ignores SELECT ... FOR UPDATE,
# and a single Berth process is exactly the deployment that runs on SQLite.
_process_locks: dict[int, threading.Lock] = defaultdict(threading.Lock)
_process_locks_guard = threading.Lock()


def _process_lock(tenant: Tenant) -> threading.Lock:
    with _process_locks_guard:
        return _process_locks[tenant.pk]


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
    with _process_lock(tenant), transaction.atomic():
        quota = StorageQuota.objects.select_for_update().filter(tenant=tenant).first()
        if quota is not None:
            checks = storage_limit_checks(quota, _LazyUsage(tenant), request)
            for check in checks:
                if check.excess:
                    raise quota_error(tenant, check)
        yield


class _LazyUsage:
    """Reads Ceph only if a limit that needs usage is checked (the per-image limit does not)."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self._usage = None

    def __getattr__(self, name: str):
        if self._usage is None:
            self._usage = tenant_storage_usage(self.tenant)
        return getattr(self._usage, name)


def reserve_for_task(*, tenant: Tenant | None, task: BackgroundTask, request: StorageRequest) -> None:
    """Hold room for what a background task will create; call inside `quota_guard` for the same
    request, so the check and the reservation happen under one lock."""
    if tenant is not None:
        QuotaReservation.objects.create(tenant=tenant, task=task, images=request.images,
                                        provisioned_bytes=request.provisioned_bytes)


# --- Registry ------------------------------------------------------------------------------------


@contextmanager
def registry_quota_guard(*, actor, tenant: Tenant | None, kube_cluster, namespace: str,
                         existing_pull_secrets, adding: int = 1) -> Iterator[None]:
    """For registry/services/secrets.py: wrap the Kubernetes call that creates pull secrets.

        with registry_quota_guard(actor=actor, tenant=tenant, kube_cluster=cluster, namespace=ns,
                                  existing_pull_secrets=lambda: count_from_kubernetes(...)):
            create the secret

    Tenant users may only use the cluster and namespaces of their RegistryQuota (others: 404,
    recorded as denied); `existing_pull_secrets` is called inside the per-tenant lock, so the
    count comes from Kubernetes after any concurrent creation has finished.
    """
    if tenant is None:
        if not is_platform_admin(actor):
            raise _deny(actor, f"Namespace {namespace}", {"cluster": str(kube_cluster), "namespace": namespace})
        yield
        return
    require_role(actor, tenant, OPERATOR)
    audit_tenant(tenant)
    with _process_lock(tenant), transaction.atomic():
        quota = RegistryQuota.objects.select_for_update().filter(tenant=tenant).first()
        allowed = quota is not None and quota.kube_cluster_id == kube_cluster.pk and namespace in quota.namespaces
        if not allowed and not is_platform_admin(actor):
            raise _deny(actor, f"Namespace {namespace}", {"cluster": str(kube_cluster), "namespace": namespace})
        if quota is not None and adding > 0 and quota.max_pull_secrets_per_namespace is not None:
            check = LimitCheck("max_pull_secrets_per_namespace", f"pull secrets in namespace {namespace}",
                               existing_pull_secrets(), quota.max_pull_secrets_per_namespace, adding)
            if check.excess:
                raise quota_error(tenant, check)
        yield


def registry_scope(*, actor, cluster, namespace: str,
                   role: str = VIEWER) -> Tenant | None:
    """The tenant whose registry namespace this is (None: no tenant's), once `actor` may act there
    with `role`. The tenant becomes the audit event's; platform admins may act anywhere."""
    if is_platform_admin(actor):
        tenant = registry_tenant_for(kube_cluster=cluster, namespace=namespace)
        if tenant is not None:
            audit_tenant(tenant)
        return tenant
    quotas = RegistryQuota.objects.select_related("tenant").filter(
        kube_cluster=cluster, tenant__in=tenants_for(actor)).order_by("tenant__name")
    tenant = next((quota.tenant for quota in quotas if namespace in quota.namespaces), None)
    if tenant is None:
        # Worded as registry_quota_guard words it, so reads and creates refuse alike.
        raise _deny(actor, f"Namespace {namespace}", {"cluster": str(cluster), "namespace": namespace})
    audit_tenant(tenant)
    require_role(actor, tenant, role)
    return tenant


def registry_tenant_for(*, kube_cluster, namespace: str) -> Tenant | None:
    """The tenant whose RegistryQuota lists this namespace (JSON list membership is checked in
    Python: SQLite has no JSON containment lookup)."""
    for quota in RegistryQuota.objects.select_related("tenant").filter(kube_cluster=kube_cluster):
        if namespace in quota.namespaces:
            return quota.tenant
    return None


def tenant_pool_quotas_apply(*, actor, tenant: Tenant) -> None:
    """Set each whole pool's Ceph quota (`max_bytes`) to the tenant's provisioned limit: a second
    line of defence that Ceph itself enforces on writes, even for clients that bypass Berth."""
    from storage.services.pools import pool_get, pool_set_quota

    require_platform_admin(actor, "set Ceph pool quotas")
    quota = StorageQuota.objects.filter(tenant=tenant).first()
    max_bytes = _gib(quota.max_provisioned_gib) if quota else None
    for binding in tenant.storage_bindings.select_related("cluster").filter(namespace=""):
        pool = pool_get(actor=actor, cluster=binding.cluster, name=binding.pool)
        if pool.quota_max_bytes != max_bytes:
            pool_set_quota(actor=actor, cluster=binding.cluster, name=binding.pool, max_bytes=max_bytes,
                           max_objects=pool.quota_max_objects)


# --- Tenant pages: usage against limits, members, quotas --------------------------------------


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


def tenant_get(*, actor, slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None or role_in(actor, tenant) is None:
        raise _deny(actor, f"Tenant {slug}", {"tenant": slug})
    return tenant


def tenant_usage_rows(*, actor, tenant: Tenant) -> list[UsageRow]:
    require_role(actor, tenant, VIEWER)
    quota = StorageQuota.objects.filter(tenant=tenant).first() or StorageQuota(tenant=tenant)
    usage = tenant_storage_usage(tenant)
    return [
        UsageRow("Images", usage.images, quota.max_images, False),
        UsageRow("Provisioned", usage.provisioned_bytes, _gib(quota.max_provisioned_gib), True),
        UsageRow("Snapshots", usage.snapshots, quota.max_snapshots, False),
    ]


def storage_quota_preview(*, actor, tenant: Tenant | None, adds_bytes: int) -> str:
    """What a create form says about a request of `adds_bytes` ("" when no limit applies)."""
    if tenant is None:
        return ""
    quota = StorageQuota.objects.filter(tenant=tenant).first()
    if quota is None or quota.max_provisioned_gib is None:
        return ""
    remaining = max(0, _gib(quota.max_provisioned_gib) - tenant_storage_usage(tenant).provisioned_bytes)
    fits = "" if adds_bytes <= remaining else " — more than is left, so it would be refused"
    return (f"This image uses {format_binary_size(adds_bytes)} of your remaining {format_binary_size(remaining)} "
            f"(tenant {tenant.slug}){fits}.")


@audited_action("tenancy.storage_quota.set", target=("tenant",),
                params=("max_images", "max_provisioned_gib", "max_image_gib", "max_snapshots"))
def storage_quota_set(*, actor, tenant: Tenant, max_images: int | None, max_provisioned_gib: int | None,
                      max_image_gib: int | None, max_snapshots: int | None) -> StorageQuota:
    require_platform_admin(actor, "change quotas")
    quota, _ = StorageQuota.objects.get_or_create(tenant=tenant)
    quota.max_images, quota.max_provisioned_gib = max_images, max_provisioned_gib
    quota.max_image_gib, quota.max_snapshots = max_image_gib, max_snapshots
    quota.save()
    tenant_pool_quotas_apply(actor=actor, tenant=tenant)
    return quota


@audited_action("tenancy.membership.set", target=("tenant", "username"), params=("role",))
def membership_set(*, actor, tenant: Tenant, username: str, role: str) -> Membership:
    require_role(actor, tenant, ADMIN)
    if role not in _RANK:
        raise InvalidInput(f"role: must be one of {', '.join(_RANK)}.", code="invalid_role", extra={"field": "role"})
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise InvalidInput(f"username: no active user {username}.", code="unknown_user", extra={"field": "username"})
    membership, _ = Membership.objects.update_or_create(user=user, tenant=tenant, defaults={"role": role})
    return membership


@audited_action("tenancy.membership.remove", target=("tenant", "username"))
def membership_remove(*, actor, tenant: Tenant, username: str) -> None:
    require_role(actor, tenant, ADMIN)
    removed, _ = Membership.objects.filter(tenant=tenant, user__username=username).delete()
    if not removed:
        raise NotFound(f"{username} is not a member of tenant {tenant.slug}.", code="membership_not_found")
