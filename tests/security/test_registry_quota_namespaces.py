"""Issue 10, point 8: a registry quota's namespaces were any JSON, and two tenants could list one namespace.

`RegistryQuota.namespaces` is a JSON field, and Berth checks a namespace with `namespace in
quota.namespaces`. A platform admin who types `"team-a-staging"` (a string, not a list) in the admin
gives tenant A every namespace whose name is part of that string: `"team-a" in "team-a-staging"` is
true. And two tenants listing the same namespace both act in it, each seeing the other's secrets.
The attacks: such rows are saved through the admin; a row stored before validation existed (or
written past it) still gives a tenant's operator another tenant's namespace.
"""

import base64
import json

import pytest
from django.test import Client
from django.urls import reverse
from kubernetes import client
from rest_framework.test import APIClient

from dashboard.tenancy.models import Tenant
from registry.models import RegistryQuota
from tests.helpers import admin_tenant_form, two_tenants

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def pull_secret(name: str) -> client.V1Secret:
    auths = {"harbor.example.com": {"auth": base64.b64encode(b"user:pass").decode()}}
    return client.V1Secret(
        metadata=client.V1ObjectMeta(name=name),
        type="kubernetes.io/dockerconfigjson",
        data={".dockerconfigjson": base64.b64encode(json.dumps({"auths": auths}).encode()).decode()},
    )


@pytest.fixture
def platform_admin(admin_user) -> Client:
    browser = Client()
    browser.force_login(admin_user)
    return browser


def quota_row(data: dict[str, str], tenant: Tenant, kube_cluster, namespaces: str) -> dict[str, str]:
    """The admin's tenant form with the registry quota inline filled in (`namespaces` as typed)."""
    return {
        **data,
        "registry_quota-TOTAL_FORMS": "1",
        "registry_quota-0-tenant": str(tenant.pk),
        "registry_quota-0-kube_cluster": str(kube_cluster.pk),
        "registry_quota-0-namespaces": namespaces,
        "registry_quota-0-max_pull_secrets_per_namespace": "",
    }


def admin_sets_namespaces(browser: Client, tenant: Tenant, kube_cluster, namespaces: str):
    url, data = admin_tenant_form(browser, tenant)
    return browser.post(url, quota_row(data, tenant, kube_cluster, namespaces))


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ('"team-a-staging"', "must be a list"),
        ('{"team-a": true}', "must be a list"),
        ("[1]", "is not a namespace name"),
        ('["Team_A"]', "DNS-1123 label"),
        (json.dumps(["a" * 64]), "DNS-1123 label"),
        ('["team-a", "team-a"]', "twice"),
    ],
)
def test_the_admin_refuses_namespaces_that_are_not_a_list_of_namespace_names(platform_admin, kube_cluster, typed, why):
    tenant = Tenant.objects.create(name="Team A", slug="team-a")
    answer = admin_sets_namespaces(platform_admin, tenant, kube_cluster, typed)
    assert answer.status_code == 200, f"saved {typed}: {answer.status_code}"
    html = answer.content.decode()
    assert "namespaces" in html and why in html, html[:3000]
    assert not RegistryQuota.objects.filter(tenant=tenant).exists()


def test_a_second_tenant_cannot_list_a_namespace_the_first_one_lists(platform_admin, kube_cluster, namespace):
    a, b, _members, _outsider = two_tenants()
    assert admin_sets_namespaces(platform_admin, a, kube_cluster, json.dumps([namespace])).status_code == 302
    answer = admin_sets_namespaces(platform_admin, b, kube_cluster, json.dumps(["team-b", namespace]))
    assert answer.status_code == 200, answer.status_code
    html = answer.content.decode()
    assert namespace in html and "Team A" in html, html[:3000]
    assert not RegistryQuota.objects.filter(tenant=b).exists()


def test_a_stored_string_is_no_substring_match(kube_cluster, core, namespace):
    """Tenant B owns `namespace` and keeps a pull secret there; tenant A's row says "<namespace>-staging" as
    a string (a row from before validation). A's operator lists and reads B's secrets."""
    a, b, members, _outsider = two_tenants()
    RegistryQuota.objects.create(tenant=b, kube_cluster=kube_cluster, namespaces=[namespace])
    RegistryQuota.objects.create(tenant=a, kube_cluster=kube_cluster, namespaces=[])
    RegistryQuota.objects.filter(tenant=a).update(namespaces=f"{namespace}-staging")
    core.create_namespaced_secret(namespace, pull_secret("b-regkey"))

    attacker = APIClient()
    attacker.force_login(members["operator"])
    listed = attacker.get(reverse("api:registry-secret-list", args=[namespace]), {"cluster": "local"})
    assert listed.status_code == 404, listed.content.decode()[:500]
    assert "b-regkey" not in listed.content.decode()
    read = attacker.get(reverse("api:registry-secret-detail", args=[namespace, "b-regkey"]), {"cluster": "local"})
    assert read.status_code == 404, read.content.decode()[:500]


def test_a_namespace_two_tenants_already_list_belongs_to_neither(kube_cluster, core, namespace):
    """Rows from before the check: both tenants list `namespace`. Neither tenant's users act there, rather
    than whichever tenant happens to come first."""
    a, b, members, outsider = two_tenants()
    RegistryQuota.objects.create(tenant=a, kube_cluster=kube_cluster, namespaces=[namespace])
    RegistryQuota.objects.create(tenant=b, kube_cluster=kube_cluster, namespaces=[namespace])
    core.create_namespaced_secret(namespace, pull_secret("a-regkey"))

    for user in (members["viewer"], outsider):
        reader = APIClient()
        reader.force_login(user)
        listed = reader.get(reverse("api:registry-secret-list", args=[namespace]), {"cluster": "local"})
        assert listed.status_code == 404, (user.username, listed.content.decode()[:500])
