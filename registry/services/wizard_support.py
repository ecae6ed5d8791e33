"""Reads the pull-secret UI needs beyond registry/services/secrets.py: which clusters an
operator may choose, and the service accounts of several namespaces at once."""

from __future__ import annotations

from collections.abc import Sequence

from dashboard.core.actors import Actor
from dashboard.tenancy import services as tenancy
from registry.models import KubeCluster, RegistryQuota
from registry.services import tenancy as registry_tenancy
from registry.services.kube import KubeApi
from registry.validation import validate_names, validate_namespace


def service_account_choices(*, actor: Actor, cluster: KubeCluster, namespaces: Sequence[str]) -> dict[str, list[str]]:
    """{service account: the chosen namespaces it exists in}, over all of `namespaces`."""
    api = KubeApi(cluster)
    found: dict[str, list[str]] = {}
    for namespace in validate_names(namespaces, field="namespaces", rule=validate_namespace):
        registry_tenancy.registry_scope(actor=actor, cluster=cluster, namespace=namespace)
        for account in api.list_service_accounts(namespace):
            found.setdefault(account.metadata.name, []).append(namespace)
    return dict(sorted(found.items()))


def cluster_names(*, actor: Actor) -> list[str]:
    """The registered Kubernetes clusters the actor may use (its tenants' registry quotas name
    them), the default one first."""
    clusters = KubeCluster.objects.order_by("-is_default", "name")
    if not tenancy.is_platform_admin(actor):
        clusters = clusters.filter(
            pk__in=RegistryQuota.objects.filter(tenant__in=tenancy.tenants_for(actor)).values("kube_cluster")
        )
    return list(clusters.values_list("name", flat=True))
