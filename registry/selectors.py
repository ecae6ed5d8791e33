"""Reads of Berth's own records about Kubernetes (no API-server calls)."""

from dashboard.core.actors import Actor
from dashboard.core.clusters import named_or_default
from dashboard.core.errors import NotConfigured, NotFound
from registry.models import KubeCluster


def kube_cluster_get(*, actor: Actor, name: str | None = None) -> KubeCluster:
    """The named cluster, or the default one (the only one, when there is just one)."""
    return named_or_default(
        KubeCluster,
        name,
        missing=NotFound(
            f"No Kubernetes cluster named {name} is registered in Berth.",
            code="cluster_not_found",
            component="kubernetes",
        ),
        unconfigured=NotConfigured(
            "Kubernetes is not configured. Add a cluster in the Django admin (Kubernetes clusters) "
            "or run `manage.py register_kube_cluster`.",
            code="kube_not_configured",
            component="kubernetes",
        ),
    )
