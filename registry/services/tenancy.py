"""Which tenant may put pull secrets into which Kubernetes namespace, and how many.

Built on the core tenancy rules (dashboard/tenancy/services.py) and called by every registry service.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import transaction

from dashboard.audit.services import audit_tenant
from dashboard.core.actors import Actor
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Tenant
from registry.models import KubeCluster, RegistryQuota


@contextmanager
def registry_quota_guard(
    *,
    actor: Actor,
    tenant: Tenant | None,
    kube_cluster: KubeCluster,
    namespace: str,
    existing_pull_secrets: Callable[[], int],
    adding: int = 1,
) -> Iterator[None]:
    """For registry/services/secrets.py: wrap the Kubernetes call that creates pull secrets.

        with registry_quota_guard(actor=actor, tenant=tenant, kube_cluster=cluster, namespace=ns,
                                  existing_pull_secrets=lambda: count_from_kubernetes(...)):
            create the secret

    Tenant users may only use the cluster and namespaces of their RegistryQuota (others: 404,
    recorded as denied); `existing_pull_secrets` is called inside the per-tenant lock, so the
    count comes from Kubernetes after any concurrent creation has finished.
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
    with tenancy.tenant_lock(tenant), transaction.atomic():
        quota = RegistryQuota.objects.select_for_update().filter(tenant=tenant).first()
        allowed = quota is not None and quota.kube_cluster_id == kube_cluster.pk and namespace in quota.namespaces
        if not allowed and not tenancy.is_platform_admin(actor):
            raise tenancy.deny_access(
                actor, f"Namespace {namespace}", {"cluster": str(kube_cluster), "namespace": namespace}
            )
        if quota is not None and adding > 0 and quota.max_pull_secrets_per_namespace is not None:
            check = tenancy.LimitCheck(
                "max_pull_secrets_per_namespace",
                f"pull secrets in namespace {namespace}",
                existing_pull_secrets(),
                quota.max_pull_secrets_per_namespace,
                adding,
            )
            if check.excess:
                raise tenancy.quota_error(tenant, check)
        yield


def registry_scope(*, actor: Actor, cluster: KubeCluster, namespace: str, role: str = tenancy.VIEWER) -> Tenant | None:
    """The tenant whose registry namespace this is (None: no tenant's), once `actor` may act there
    with `role`. The tenant becomes the audit event's; platform admins may act anywhere."""
    if tenancy.is_platform_admin(actor):
        tenant = registry_tenant_for(kube_cluster=cluster, namespace=namespace)
        if tenant is not None:
            audit_tenant(tenant)
        return tenant
    quotas = (
        RegistryQuota.objects.select_related("tenant")
        .filter(kube_cluster=cluster, tenant__in=tenancy.tenants_for(actor))
        .order_by("tenant__name")
    )
    tenant = next((quota.tenant for quota in quotas if namespace in quota.namespaces), None)
    if tenant is None:
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
    quotas = RegistryQuota.objects.filter(kube_cluster=cluster, tenant__in=tenancy.tenants_for(actor))
    if not quotas.exists():
        raise tenancy.deny_access(actor, f"Kubernetes cluster {cluster.name}", {"cluster": str(cluster)})
    return sorted({namespace for quota in quotas for namespace in quota.namespaces})


def registry_tenant_for(*, kube_cluster: KubeCluster, namespace: str) -> Tenant | None:
    """The tenant whose RegistryQuota lists this namespace (JSON list membership is checked in
    Python: SQLite has no JSON containment lookup)."""
    for quota in RegistryQuota.objects.select_related("tenant").filter(kube_cluster=kube_cluster):
        if namespace in quota.namespaces:
            return quota.tenant
    return None
