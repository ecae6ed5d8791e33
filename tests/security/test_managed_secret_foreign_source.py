"""Attack: an admin of tenant B makes a managed pull secret, through the API, whose source is a pull
secret in tenant A's namespace, so that Berth copies A's registry login into B's namespaces (where B
can read it). Also: once B has a managed secret whose source B owned, the namespace moves to
tenant A (with A's login put in its place) and the next reconcile must not carry it over to B.
Both must be refused, and no copy of A's login may appear in B's namespace."""

import base64
import json

import pytest
from django.urls import reverse
from kubernetes import client

from dashboard.core.errors import NotFound
from registry.models import ManagedPullSecret, RegistryQuota
from registry.services import managed as service
from tests.helpers import api_client_as, two_tenants

pytestmark = pytest.mark.integration

A_LOGIN = {"auths": {"harbor.a.example": {"auth": base64.b64encode(b"robot-a:a-crown-jewel").decode()}}}


def pull_secret(name: str, document: dict) -> client.V1Secret:
    return client.V1Secret(
        metadata=client.V1ObjectMeta(name=name),
        type="kubernetes.io/dockerconfigjson",
        data={".dockerconfigjson": base64.b64encode(json.dumps(document).encode()).decode()},
    )


def secrets_named(core, namespace: str, name: str) -> list:
    return core.list_namespaced_secret(namespace, field_selector=f"metadata.name={name}").items


@pytest.mark.django_db
def test_a_tenant_admin_cannot_take_another_tenants_secret_as_source(kube_cluster, core, namespace, second_namespace):
    a, b, _members, b_admin = two_tenants()
    RegistryQuota.objects.create(tenant=a, kube_cluster=kube_cluster, namespaces=[namespace])
    RegistryQuota.objects.create(tenant=b, kube_cluster=kube_cluster, namespaces=[second_namespace])
    core.create_namespaced_secret(namespace, pull_secret("a-login", A_LOGIN))

    response = api_client_as(b_admin).post(
        reverse("api:registry-managed-secret-list", args=[b.slug]),
        {"name": "stolen", "source_namespace": namespace, "source_name": "a-login"},
        format="json",
    )

    # Had it been created, the next period would reconcile it.
    for managed in ManagedPullSecret.objects.all():
        service.managed_secret_reconcile(managed=managed)
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "tenant_denied"
    assert not ManagedPullSecret.objects.exists()
    assert secrets_named(core, second_namespace, "stolen") == []


@pytest.mark.django_db
def test_a_source_namespace_the_tenant_lost_is_no_longer_read(kube_cluster, core, namespace, second_namespace):
    a, b, _members, b_admin = two_tenants()
    quota_b = RegistryQuota.objects.create(
        tenant=b, kube_cluster=kube_cluster, namespaces=[namespace, second_namespace]
    )
    core.create_namespaced_secret(namespace, pull_secret("login", {"auths": {"b.example": {"auth": "YjpiCg=="}}}))
    managed = service.managed_secret_create(
        actor=b_admin, tenant=b, name="team-pull", source_namespace=namespace, source_name="login"
    )
    # The platform admin gives the namespace to tenant A, whose own login replaces B's there.
    quota_b.namespaces = [second_namespace]
    quota_b.save()
    RegistryQuota.objects.create(tenant=a, kube_cluster=kube_cluster, namespaces=[namespace])
    core.replace_namespaced_secret("login", namespace, pull_secret("login", A_LOGIN))

    with pytest.raises(NotFound):
        service.managed_secret_reconcile(managed=managed)
    assert secrets_named(core, second_namespace, "team-pull") == []
