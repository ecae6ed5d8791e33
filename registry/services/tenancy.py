"""Which tenant may put pull secrets into which Kubernetes namespace, and how many.

Built on the core tenancy rules (dashboard/tenancy/services.py) and called by every registry service.
"""

from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager

from django.utils import timezone

from dashboard.audit.services import audit_tenant
from dashboard.core.actors import Actor
from dashboard.tenancy import reservations
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Tenant
from registry.models import KubeCluster, PullSecretReservation, RegistryQuota, RegistryQuotaLedger


@contextmanager
def registry_quota_guard(
    *,
    actor: Actor,
    tenant: Tenant | None,
    kube_cluster: KubeCluster,
    namespace: str,
    name: str,
    pull_secret_names: Callable[[], Collection[str]],
) -> Iterator[None]:
    """For registry/services/secrets.py: wrap the Kubernetes call that creates pull secret `name`.

        with registry_quota_guard(actor=actor, tenant=tenant, kube_cluster=cluster, namespace=ns, name=name,
                                  pull_secret_names=lambda: names_from_kubernetes(...)):
            create the secret

    Tenant users may only use the cluster and namespaces of their RegistryQuota (others: 404,
    recorded as denied). Against the per-namespace limit the secret is reserved first and
    released once created, without a lock or transaction held across the Kubernetes calls (see
    dashboard/tenancy/reservations.py): `pull_secret_names` lists the namespace's pull secrets,
    and secrets other requests are creating count until Kubernetes lists them.
    """
    if tenant is None:
        if not tenancy.is_platform_admin(actor):
            raise tenancy.deny_access(
                actor, f"Namespace {namespace}", {"cluster": str(kube_cluster), "namespace": namespace}
            )
        yield
        return
    tenancy.require_role(actor, tenant, tenancy.OPERATOR)
    audit_tenant(tenant)
    owner = registry_namespace_owners(kube_cluster=kube_cluster).get(namespace)
    allowed = owner is not None and owner.pk == tenant.pk
    if not allowed and not tenancy.is_platform_admin(actor):
        raise tenancy.deny_access(
            actor, f"Namespace {namespace}", {"cluster": str(kube_cluster), "namespace": namespace}
        )
    with registry_quota_admitted(
        tenant=tenant, kube_cluster=kube_cluster, namespace=namespace, name=name, pull_secret_names=pull_secret_names
    ):
        yield


@contextmanager
def registry_quota_admitted(
    *,
    tenant: Tenant,
    kube_cluster: KubeCluster,
    namespace: str,
    name: str,
    pull_secret_names: Callable[[], Collection[str]],
) -> Iterator[None]:
    """The per-namespace limit alone, for a creation whose actor was checked already or is Berth itself
    (the managed pull secrets' reconciler, registry/services/managed.py)."""
    quota = RegistryQuota.objects.filter(tenant=tenant).first()
    if quota is None or quota.max_pull_secrets_per_namespace is None:
        yield
        return
    reservation = reservations.admit(
        ledger=RegistryQuotaLedger,
        tenant=tenant,
        observe=lambda: set(pull_secret_names()),
        decide=lambda listed: _admit(tenant, kube_cluster, namespace, name, listed),
    )
    try:
        yield
    finally:
        reservations.settle(ledger=RegistryQuotaLedger, reservation=reservation)


def _admit(
    tenant: Tenant, kube_cluster: KubeCluster, namespace: str, name: str, listed: set[str]
) -> PullSecretReservation:
    """Inside the admitting transaction: check the limit against Kubernetes' list plus the secrets
    being created, then reserve this one."""
    now = timezone.now()
    PullSecretReservation.objects.filter(tenant=tenant, expires_at__lte=now).delete()
    in_flight = PullSecretReservation.objects.filter(tenant=tenant, kube_cluster=kube_cluster, namespace=namespace)
    known = listed | {reservation.name for reservation in in_flight}
    quota = RegistryQuota.objects.filter(tenant=tenant).first()
    check = tenancy.LimitCheck(
        "max_pull_secrets_per_namespace",
        f"pull secrets in namespace {namespace}",
        len(known),
        quota.max_pull_secrets_per_namespace if quota else None,
        0 if name in known else 1,
    )
    if check.excess:
        raise tenancy.quota_error(tenant, check)
    return PullSecretReservation.objects.create(
        tenant=tenant, kube_cluster=kube_cluster, namespace=namespace, name=name
    )


def registry_scope(*, actor: Actor, cluster: KubeCluster, namespace: str, role: str = tenancy.VIEWER) -> Tenant | None:
    """The tenant whose registry namespace this is (None: no tenant's), once `actor` may act there
    with `role`. The tenant becomes the audit event's; platform admins may act anywhere."""
    if tenancy.is_platform_admin(actor):
        tenant = registry_tenant_for(kube_cluster=cluster, namespace=namespace)
        if tenant is not None:
            audit_tenant(tenant)
        return tenant
    tenant = registry_namespace_owners(kube_cluster=cluster).get(namespace)
    if tenant is None or not tenancy.tenants_for(actor).filter(pk=tenant.pk).exists():
        # Worded as registry_quota_guard words it, so reads and creates refuse alike.
        raise tenancy.deny_access(actor, f"Namespace {namespace}", {"cluster": str(cluster), "namespace": namespace})
    audit_tenant(tenant)
    tenancy.require_role(actor, tenant, role)
    return tenant


def registry_namespaces_for(*, actor: Actor, cluster: KubeCluster) -> list[str] | None:
    """The namespaces of `cluster` that `actor` may look at: None for all of them (platform admins),
    else those its tenants' registry quotas list; a cluster none of them uses is refused like a
    namespace outside them."""
    if tenancy.is_platform_admin(actor):
        return None
    tenants = tenancy.tenants_for(actor)
    if not RegistryQuota.objects.filter(kube_cluster=cluster, tenant__in=tenants).exists():
        raise tenancy.deny_access(actor, f"Kubernetes cluster {cluster.name}", {"cluster": str(cluster)})
    return registry_namespaces_of(kube_cluster=cluster, tenants=tenants)


def registry_namespaces_of(*, kube_cluster: KubeCluster, tenants: Iterable[Tenant]) -> list[str]:
    """The namespaces of `kube_cluster` that belong to one of `tenants`."""
    pks = {tenant.pk for tenant in tenants}
    owners = registry_namespace_owners(kube_cluster=kube_cluster)
    return sorted(name for name, owner in owners.items() if owner.pk in pks)


def registry_tenant_for(*, kube_cluster: KubeCluster, namespace: str) -> Tenant | None:
    """The tenant whose RegistryQuota lists this namespace."""
    return registry_namespace_owners(kube_cluster=kube_cluster).get(namespace)


def registry_namespace_owners(*, kube_cluster: KubeCluster) -> dict[str, Tenant]:
    """{namespace: its tenant} over the registry quotas of `kube_cluster` (JSON lists are read in Python:
    SQLite has no JSON containment lookup). A namespace two tenants list belongs to neither: such rows
    predate the check in `RegistryQuota.clean`, and picking one of the tenants would hand it the other's
    secrets."""
    owners: dict[str, Tenant] = {}
    contested: set[str] = set()
    for quota in RegistryQuota.objects.select_related("tenant").filter(kube_cluster=kube_cluster):
        for namespace in quota.namespace_list:
            if owners.setdefault(namespace, quota.tenant).pk != quota.tenant_id:
                contested.add(namespace)
    return {namespace: tenant for namespace, tenant in owners.items() if namespace not in contested}
