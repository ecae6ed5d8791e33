"""Issue 10, hole 4: a tenant's Ceph key outlived its binding.

The attack: tenant A's admin mints a Ceph key for A's RBD namespace and keeps it. The platform admin
later takes the namespace away from A (deleting the binding, deleting tenant A, or after renaming
A's slug) and binds it to tenant B, which stores an image there. The key holder then uses the key
directly with librados/librbd, as anyone holding it can, to read and write B's image.
"""

import re
from dataclasses import dataclass

import pytest
import rados
import rbd
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from dashboard.tenancy.models import Tenant
from storage.models import StorageBinding
from tests.helpers import admin_tenant_form, binding_row, two_tenants, unique_name

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@dataclass
class Place:
    pool: str
    namespace: str


@pytest.fixture
def place(ceph_admin, storage_pool) -> Place:
    namespace = unique_name("shared")
    ceph_admin.create_namespace(f"{storage_pool}/{namespace}")
    return Place(storage_pool, namespace)


@pytest.fixture
def platform_admin(admin_user) -> Client:
    browser = Client()
    browser.force_login(admin_user)
    return browser


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def mint_key(tenant_admin, binding: StorageBinding) -> tuple[str, str]:
    """Tenant A's admin asks for a key on the tenant page and copies it from the answer."""
    page = signed_in(tenant_admin).post(reverse("tenant-key-create", args=[binding.tenant.slug, binding.pk]))
    assert page.status_code == 200, page.content
    html = page.content.decode()
    entity = re.search(r"<dt>Ceph client</dt><dd><code>([^<]+)</code>", html).group(1)
    key = re.search(r'data-testid="tenant-key">([^<]+)<', html).group(1)
    return entity, key


def admin_saves(browser: Client, url: str, data: dict) -> None:
    answer = browser.post(url, data)
    assert answer.status_code == 302, answer.content.decode()[:3000]


def admin_deletes_binding(browser: Client, binding: StorageBinding) -> None:
    url, data = admin_tenant_form(browser, Tenant.objects.get(pk=binding.tenant_id))
    admin_saves(browser, url, {**data, f"{binding_row(data, binding)}-DELETE": "on"})


def admin_deletes_tenant(browser: Client, tenant: Tenant) -> None:
    answer = browser.post(reverse("admin:tenancy_tenant_delete", args=[tenant.pk]), {"post": "yes"})
    assert answer.status_code == 302
    assert not Tenant.objects.filter(pk=tenant.pk).exists(), "the admin refused to delete the tenant"


def admin_renames_tenant(browser: Client, tenant: Tenant, slug: str) -> None:
    url, data = admin_tenant_form(browser, tenant)
    admin_saves(browser, url, {**data, "slug": slug})


def admin_binds(browser: Client, tenant: Tenant, cluster, place: Place) -> None:
    url, data = admin_tenant_form(browser, tenant)
    row = int(data["storage_bindings-TOTAL_FORMS"])
    data["storage_bindings-TOTAL_FORMS"] = str(row + 1)
    admin_saves(
        browser,
        url,
        {
            **data,
            f"storage_bindings-{row}-id": "",
            f"storage_bindings-{row}-tenant": str(tenant.pk),
            f"storage_bindings-{row}-cluster": str(cluster.pk),
            f"storage_bindings-{row}-pool": place.pool,
            f"storage_bindings-{row}-namespace": place.namespace,
        },
    )


def what_the_key_reaches(mon_host: str, entity: str, key: str, place: Place, image: str) -> list[str]:
    """Everything the key holder manages to do to `image`, straight through librados and librbd."""
    timeouts = {"client_mount_timeout": "5", "rados_mon_op_timeout": "5", "rados_osd_op_timeout": "5"}
    handle = rados.Rados(conffile=None, name=entity, conf={"mon_host": mon_host, "key": key, **timeouts})
    try:
        handle.connect()
    except (rados.PermissionError, rados.PermissionDeniedError):
        return []  # the monitors no longer know the key
    reached = []
    try:
        with handle.open_ioctx(place.pool) as ioctx:
            ioctx.set_namespace(place.namespace)
            try:
                if image in rbd.RBD().list(ioctx):
                    reached.append("list")
                with rbd.Image(ioctx, image) as opened:
                    if opened.read(0, 4096) is not None:
                        reached.append("read")
                    opened.write(b"stolen" * 16, 0)
                    reached.append("write")
            except (rbd.PermissionError, rados.PermissionError, rados.PermissionDeniedError):
                pass
    finally:
        handle.shutdown()
    return reached


def tenant_stores_an_image(tenant_admin, place: Place) -> str:
    api = APIClient()
    api.force_authenticate(tenant_admin)
    image = unique_name("secret")
    created = api.post(
        reverse("api:storage-image-list", kwargs={"pool": place.pool}) + f"?namespace={place.namespace}",
        {"name": image, "size": "64MiB"},
        format="json",
    )
    assert created.status_code == 201, created.content
    return image


@pytest.mark.parametrize("taken_away_by", ["binding deleted", "tenant deleted", "slug renamed, then binding deleted"])
def test_a_key_of_a_removed_binding_cannot_reach_the_next_tenants_images(
    taken_away_by, place, platform_admin, ceph_cluster, ceph_dev_cluster, ceph_admin
):
    a, b, members, b_admin = two_tenants()
    binding = StorageBinding.objects.create(tenant=a, cluster=ceph_cluster, pool=place.pool, namespace=place.namespace)
    entity, key = mint_key(members["admin"], binding)
    # The key works while A owns the namespace, so what follows is not refused for another reason.
    own = tenant_stores_an_image(members["admin"], place)
    assert what_the_key_reaches(ceph_dev_cluster.mon_host, entity, key, place, own) == ["list", "read", "write"]

    # Neither a tenant nor a binding that still holds images is removed (tenant_not_empty,
    # binding_holds_images): the image goes first.
    ceph_admin.rbd("rm", "--no-progress", f"{place.pool}/{place.namespace}/{own}")
    if taken_away_by == "tenant deleted":
        admin_deletes_tenant(platform_admin, a)
    else:
        if taken_away_by.startswith("slug renamed"):
            admin_renames_tenant(platform_admin, a, "team-a-renamed")
        admin_deletes_binding(platform_admin, binding)
    assert not StorageBinding.objects.filter(pk=binding.pk).exists()

    admin_binds(platform_admin, b, ceph_cluster, place)
    image = tenant_stores_an_image(b_admin, place)

    assert what_the_key_reaches(ceph_dev_cluster.mon_host, entity, key, place, image) == []


def test_after_a_slug_rename_the_tenant_admin_still_revokes_the_key(
    place, platform_admin, ceph_cluster, ceph_dev_cluster
):
    a, _, members, _ = two_tenants()
    binding = StorageBinding.objects.create(tenant=a, cluster=ceph_cluster, pool=place.pool, namespace=place.namespace)
    entity, key = mint_key(members["admin"], binding)
    admin_renames_tenant(platform_admin, a, "team-a-renamed")

    revoked = signed_in(members["admin"]).post(reverse("tenant-key-revoke", args=["team-a-renamed", binding.pk]))

    assert revoked.status_code == 302, revoked.status_code
    assert what_the_key_reaches(ceph_dev_cluster.mon_host, entity, key, place, "anything") == []
