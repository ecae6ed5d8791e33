"""Reads of Berth's own records about storage (no Ceph calls)."""

from dashboard.core.actors import Actor
from dashboard.core.clusters import named_or_default
from dashboard.core.errors import NotConfigured, NotFound
from dashboard.tenancy import services as tenancy
from storage.models import CephCluster, StorageBinding


def ceph_cluster_get(*, actor: Actor | None, name: str | None = None) -> CephCluster:
    """The named cluster, or the default one (the only one, when there is just one)."""
    return named_or_default(
        CephCluster,
        name,
        missing=NotFound(f"No Ceph cluster named {name} is registered in Berth.", code="cluster_not_found"),
        unconfigured=NotConfigured(
            "No Ceph cluster is configured. Add one in the Django admin (Ceph clusters) "
            "or run `manage.py register_ceph_cluster`.",
            code="ceph_not_configured",
            component="ceph",
        ),
    )


def ceph_cluster_names(*, actor: Actor) -> list[str]:
    """The registered Ceph clusters `actor` is shown: every one to platform admins, those holding
    its tenants' storage to anyone else; the default one first."""
    clusters = CephCluster.objects.order_by("-is_default", "name")
    if not tenancy.is_platform_admin(actor):
        bound = StorageBinding.objects.filter(tenant__in=tenancy.tenants_for(actor)).values("cluster")
        clusters = clusters.filter(pk__in=bound)
    return list(clusters.values_list("name", flat=True))
