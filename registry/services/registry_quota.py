"""A tenant's registry quota, set by platform admins: the Kubernetes cluster, the namespaces of it
the tenant may put pull secrets into, and how many per namespace.

Deleting a tenant asks this module which pull secrets Berth manages in the tenant's namespaces
(registered in RegistryConfig.ready with the core's `register_tenant_holdings`): left behind, they
would keep their registry credentials with no tenant to account for them.
"""

from django.core.exceptions import ValidationError

from dashboard.audit.services import audited_action
from dashboard.core.actors import Actor
from dashboard.core.errors import InvalidInput
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Tenant
from registry.dockerconfig import ConfigFormat
from registry.models import KubeCluster, ManagedPullSecret, RegistryQuota
from registry.services.kube import KubeApi
from registry.services.secrets import namespace_list
from registry.services.types import MANAGED_BY_LABEL

_FIELDS = {"kube_cluster": "cluster", "namespaces": "namespaces", "max_pull_secrets_per_namespace": "max"}


def registry_quota_get(*, actor: Actor, tenant: Tenant) -> RegistryQuota | None:
    tenancy.require_role(actor, tenant, tenancy.VIEWER)
    return RegistryQuota.objects.select_related("kube_cluster").filter(tenant=tenant).first()


def registry_quota_namespace_choices(*, actor: Actor, tenant: Tenant, cluster: KubeCluster) -> list[str]:
    """The cluster's namespaces, plus those the quota names already (a namespace deleted from the
    cluster can still be taken off the list)."""
    tenancy.require_platform_admin(actor, "change registry quotas")
    listed = set(namespace_list(actor=actor, cluster=cluster))
    quota = RegistryQuota.objects.filter(tenant=tenant, kube_cluster=cluster).first()
    return sorted(listed | set(quota.namespaces if quota else ()))


@audited_action(
    "tenancy.registry_quota.set",
    target=("tenant",),
    params=("kube_cluster", "namespaces", "max_pull_secrets_per_namespace"),
)
def registry_quota_set(
    *,
    actor: Actor,
    tenant: Tenant,
    kube_cluster: KubeCluster,
    namespaces: list[str],
    max_pull_secrets_per_namespace: int | None,
) -> RegistryQuota:
    """The model's own validation decides which namespace lists are acceptable (registry/models.py)."""
    tenancy.require_platform_admin(actor, "change registry quotas")
    quota = RegistryQuota.objects.filter(tenant=tenant).first() or RegistryQuota(tenant=tenant)
    quota.kube_cluster = kube_cluster
    quota.namespaces = sorted(set(namespaces))
    quota.max_pull_secrets_per_namespace = max_pull_secrets_per_namespace
    try:
        quota.full_clean()
    except ValidationError as error:
        fields = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
        field, messages = next(iter(fields.items()))
        named = _FIELDS.get(field, field)
        prefix = f"{named}: " if named else ""
        raise InvalidInput(
            prefix + " ".join(messages), code="invalid_registry_quota", extra={"field": named or None}
        ) from None
    quota.save()
    return quota


def tenant_registry_left(tenant: Tenant) -> list[str]:
    """For deleting a tenant: its managed pull secrets (deleting their rows would leave their copies
    unmanaged in every namespace) and the pull secrets Berth made in its namespaces, with what to do."""
    left = []
    managed_names = sorted(ManagedPullSecret.objects.filter(tenant=tenant).values_list("name", flat=True))
    if managed_names:
        left.append(
            f"managed pull secrets ({', '.join(managed_names)}): delete them on the Managed pull secrets page first"
        )
    quota = RegistryQuota.objects.select_related("kube_cluster").filter(tenant=tenant).first()
    if quota is None:
        return left
    api = KubeApi(quota.kube_cluster)
    managed = []
    for namespace in quota.namespaces:
        # Kubernetes lists nothing, rather than failing, in a namespace that no longer exists.
        managed += [
            f"{namespace}/{secret.metadata.name}"
            for config_format in ConfigFormat
            for secret in api.list_secrets(namespace, secret_type=config_format.secret_type)
            if (secret.metadata.labels or {}).get(MANAGED_BY_LABEL) == "berth"
        ]
    if managed:
        left.append(
            f"pull secrets Berth manages on Kubernetes cluster {quota.kube_cluster.name} "
            f"({', '.join(sorted(managed))}): delete them on the Pull secrets page first"
        )
    return left
