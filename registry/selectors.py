"""Reads of Berth's own records about Kubernetes (no API-server calls)."""

from django.contrib.auth.models import AbstractBaseUser

from dashboard.errors import NotConfigured, NotFound
from registry.models import KubeCluster


def kube_cluster_get(*, actor: AbstractBaseUser, name: str | None = None) -> KubeCluster:
    """The named cluster, or the default one (the only one, when there is just one)."""
    if name:
        try:
            return KubeCluster.objects.get(name=name)
        except KubeCluster.DoesNotExist:
            raise NotFound(f"No Kubernetes cluster named {name} is registered in Berth.",
                           code="cluster_not_found", component="kubernetes") from None
    cluster = KubeCluster.objects.filter(is_default=True).first()
    if cluster is None:
        clusters = list(KubeCluster.objects.all()[:2])
        cluster = clusters[0] if len(clusters) == 1 else None
    if cluster is None:
        raise NotConfigured(
            "Kubernetes is not configured. Add a cluster in the Django admin (Kubernetes clusters) "
            "or run `manage.py register_kube_cluster`.", code="kube_not_configured", component="kubernetes")
    return cluster
