"""Empty lists say what to do next, to whoever is looking: a platform admin creates, a tenant
member is told who binds storage or sets a registry quota for its tenant."""

import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.helpers import two_tenants, unique_name

pytestmark = pytest.mark.integration


def empty_state(response) -> str:
    assert response.status_code == 200, response.content[:500]
    found = re.search(r'<p class="empty-state"[^>]*>(.*?)</p>', response.content.decode(), re.S)
    assert found, "the page has an empty state"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def viewer(db):
    _, _, members, _ = two_tenants()
    return signed_in(members["viewer"])


def test_no_pools_tells_a_tenant_member_who_binds_one(viewer, ceph_cluster):
    said = empty_state(viewer.get(reverse("storage:pool-list")))
    assert said == (
        "None of your tenants has a pool or an RBD namespace on this cluster yet: a platform admin binds one to "
        "your tenant."
    )


def test_no_images_offers_to_create_one(admin_client, ceph_cluster, ceph_admin, storage_pool):
    namespace = unique_name("empty")
    ceph_admin.create_namespace(f"{storage_pool}/{namespace}")

    response = admin_client.get(reverse("storage:image-list", args=[storage_pool]), {"namespace": namespace})

    assert empty_state(response) == f"No images in namespace {namespace} of pool {storage_pool} — create one"
    assert reverse("storage:image-create", args=[storage_pool]) in response.content.decode()


def test_no_secrets_offers_the_wizard(admin_client, kube_cluster, namespace):
    response = admin_client.get(reverse("registry:secret-list"), {"namespace": namespace})

    assert empty_state(response) == "No image-pull secrets in this namespace — create one."
    assert f"{reverse('registry:wizard-start')}?cluster=local&amp;namespace={namespace}" in response.content.decode()


def test_no_registry_namespace_tells_a_tenant_member_who_sets_the_quota(viewer, kube_cluster):
    said = empty_state(viewer.get(reverse("registry:secret-list")))
    assert said == (
        "None of your tenants may put pull secrets in a namespace of this cluster yet: a platform admin sets "
        "your tenant's registry quota."
    )


def test_no_tenants_says_who_adds_one(admin_client, db):
    loner = signed_in(get_user_model().objects.create_user("loner", password="pw-not-used-0"))

    assert empty_state(admin_client.get(reverse("tenant-list"))).startswith("No tenant exists yet: add one")
    assert empty_state(loner.get(reverse("tenant-list"))) == (
        "You are not a member of any tenant yet. Ask a platform admin to add you to one."
    )
