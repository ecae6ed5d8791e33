"""Reads the pull-secret UI needs beyond registry/services/secrets.py: which namespaces an
operator may choose, and the service accounts of several namespaces at once."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser

from registry.models import KubeCluster
from registry.services.kube import KubeApi
from registry.validation import validate_names, validate_namespace


def namespace_choices(*, actor: AbstractBaseUser, cluster: KubeCluster) -> list[str]:
    """The namespaces `actor` may put pull secrets in: every namespace for platform admins.

    Tenants' namespaces come with tenancy; until then a non-staff user gets none.
    """
    if not actor.is_staff:
        return []
    return sorted(namespace.metadata.name for namespace in KubeApi(cluster).list_namespaces())


def service_account_choices(*, actor: AbstractBaseUser, cluster: KubeCluster,
                            namespaces: Sequence[str]) -> dict[str, list[str]]:
    """{service account: the chosen namespaces it exists in}, over all of `namespaces`."""
    api = KubeApi(cluster)
    found: dict[str, list[str]] = {}
    for namespace in validate_names(namespaces, field="namespaces", rule=validate_namespace):
        for account in api.list_service_accounts(namespace):
            found.setdefault(account.metadata.name, []).append(namespace)
    return dict(sorted(found.items()))


def cluster_names(*, actor: AbstractBaseUser) -> list[str]:
    """The registered Kubernetes clusters, the default one first."""
    return list(KubeCluster.objects.order_by("-is_default", "name").values_list("name", flat=True))
