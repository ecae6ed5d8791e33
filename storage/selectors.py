"""Reads of Berth's own records about storage (no Ceph calls)."""

from django.contrib.auth.models import AbstractBaseUser

from dashboard.errors import NotConfigured, NotFound
from storage.models import CephCluster


def ceph_cluster_get(*, actor: AbstractBaseUser, name: str | None = None) -> CephCluster:
    """The named cluster, or the default one (the only one, when there is just one)."""
    if name:
        try:
            return CephCluster.objects.get(name=name)
        except CephCluster.DoesNotExist:
            raise NotFound(f"No Ceph cluster named {name} is registered in Berth.", code="cluster_not_found") from None
    cluster = CephCluster.objects.filter(is_default=True).first()
    if cluster is None:
        clusters = list(CephCluster.objects.all()[:2])
        cluster = clusters[0] if len(clusters) == 1 else None
    if cluster is None:
        raise NotConfigured(
            "No Ceph cluster is configured. Add one in the Django admin (Ceph clusters) "
            "or run `manage.py register_ceph_cluster`.", code="ceph_not_configured", component="ceph")
    return cluster
