"""Used bytes per image and per snapshot, as `rbd du` counts them: Berth's figures are compared with
what the `rbd` CLI itself reports for the same image."""

import json
import time

import pytest
import rbd as librbd
from django.contrib.auth import get_user_model
from django.urls import reverse

from dashboard.core.errors import NotFound
from dashboard.templatetags.berth import binary_size
from dashboard.tenancy.models import Membership, Tenant
from storage.models import StorageBinding, UsageSample
from storage.services import image_cache, images, usage
from storage.services.usage_history import usage_sample_take
from tests.helpers import api_client_as, unique_name

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def written(ceph_admin, spec: str) -> None:
    ceph_admin.rbd("bench", "--io-type", "write", "--io-total", "8M", "--io-pattern", "rand", spec)


@pytest.fixture
def measured_image(ceph_admin, storage_pool) -> str:
    """Written, snapshotted as s1, written again."""
    name = unique_name("du")
    spec = f"{storage_pool}/{name}"
    ceph_admin.create_image(spec, "256M")
    written(ceph_admin, spec)
    ceph_admin.create_snapshot(f"{spec}@s1")
    written(ceph_admin, spec)
    return name


def rbd_du(ceph_admin, spec: str) -> dict[str | None, int]:
    rows = json.loads(ceph_admin.rbd("du", "--format", "json", spec))["images"]
    return {row.get("snapshot"): row["used_size"] for row in rows}


def test_image_and_snapshot_usage_match_rbd_du(ceph_cluster, ceph_admin, admin_user, storage_pool, measured_image):
    spec = f"{storage_pool}/{measured_image}"
    expected = rbd_du(ceph_admin, spec)
    found = usage.image_usage(
        actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="", name=measured_image
    )
    assert found.provisioned == 256 << 20
    assert {s.name: s.used for s in found.snapshots} == {"s1": expected["s1"]}
    assert found.used == expected[None] and found.total == expected["s1"] + expected[None]
    assert found.total > 0


def test_without_fast_diff_usage_is_unknown_not_scanned(ceph_cluster, ceph_admin, admin_user, storage_pool):
    name = unique_name("nofd")
    ceph_admin.create_image(f"{storage_pool}/{name}", "64M", features=librbd.RBD_FEATURE_LAYERING)
    found = usage.image_usage(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="", name=name)
    assert (found.used, found.total) == (None, None)


def test_the_list_measures_the_shown_page_only(ceph_cluster, ceph_admin, admin_user, storage_pool, measured_image):
    expected = sum(rbd_du(ceph_admin, f"{storage_pool}/{measured_image}").values())
    page = images.image_list(
        actor=admin_user, cluster=ceph_cluster, pool=storage_pool, search=measured_image, with_used=True
    )
    assert [(i.name, i.used) for i in page.items] == [(measured_image, expected)]
    plain = images.image_list(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, search=measured_image)
    assert [i.used for i in plain.items] == [None]
    api = api_client_as(admin_user)
    listed = api.get(
        reverse("api:storage-image-list", kwargs={"pool": storage_pool}), {"search": measured_image, "with_used": "1"}
    )
    assert listed.json()["results"][0]["used"] == expected
    one = api.get(reverse("api:storage-image-usage", kwargs={"pool": storage_pool, "name": measured_image})).json()
    assert one["total"] == expected and [s["name"] for s in one["snapshots"]] == ["s1"]


def test_the_list_shows_the_last_measure_while_it_measures_again(
    ceph_cluster, ceph_admin, admin_user, storage_pool, settings
):
    settings.BERTH_IMAGE_LIST_REVALIDATE = 1
    name = unique_name("again")
    spec = f"{storage_pool}/{name}"
    ceph_admin.create_image(spec, "64M")

    def shown() -> int | None:
        page = images.image_list(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, search=name, with_used=True)
        return page.items[0].used

    assert shown() == 0  # never measured: measured before the answer
    written(ceph_admin, spec)
    time.sleep(1.1)
    # Older than the interval: the answer is the last measure (the rows, re-read meanwhile, keep it), and the
    # image is measured again in the background.
    assert shown() == 0
    image_cache.wait_for_revalidation()
    assert shown() == sum(rbd_du(ceph_admin, spec).values()) > 0


def test_pages_show_used(ceph_cluster, ceph_admin, admin_client, storage_pool, measured_image):
    expected = rbd_du(ceph_admin, f"{storage_pool}/{measured_image}")
    detail = admin_client.get(reverse("storage:image-detail", args=[storage_pool, measured_image])).content.decode()
    assert 'data-testid="image-usage"' in detail and "rbd du" in detail
    assert detail.count('data-testid="snapshot-used"') == 1
    listing = admin_client.get(reverse("storage:image-list", args=[storage_pool]), {"search": measured_image})
    assert listing.status_code == 200 and expected[None] > 0


def test_tenant_page_shows_live_provisioned_and_the_sampled_used(client, ceph_cluster, ceph_admin, storage_pool):
    namespace = unique_name("du-t")
    ceph_admin.create_namespace(f"{storage_pool}/{namespace}")
    spec = f"{storage_pool}/{namespace}/disk"
    ceph_admin.create_image(spec, "128M")
    written(ceph_admin, spec)
    ceph_admin.create_image(f"{storage_pool}/{namespace}/old", "64M", features=librbd.RBD_FEATURE_LAYERING)
    tenant = Tenant.objects.create(name="Usage", slug=namespace)
    StorageBinding.objects.create(tenant=tenant, cluster=ceph_cluster, pool=storage_pool, namespace=namespace)
    viewer = get_user_model().objects.create_user(f"{namespace}-viewer")
    Membership.objects.create(user=viewer, tenant=tenant, role="viewer")
    client.force_login(viewer)
    before = client.get(reverse("tenant-detail", args=[namespace])).content.decode()
    assert "192 MiB provisioned" in before and "not measured yet" in before

    usage_sample_take(progress=lambda done, total: None)
    used = rbd_du(ceph_admin, spec)[None]
    sample = UsageSample.objects.get(tenant=tenant)
    assert (sample.provisioned_bytes, sample.used_bytes, sample.unmeasured_images) == (192 << 20, used, 1)
    measured = usage.tenant_used_sampled(actor=viewer, tenant=tenant)
    assert (measured.used, measured.unknown, measured.measured_at) == (used, 1, sample.time)
    with pytest.raises(NotFound):
        usage.tenant_used_sampled(actor=get_user_model().objects.create_user(f"{namespace}-outsider"), tenant=tenant)

    # Data written after the sample shows at the next one; provisioned is read from Ceph at every view.
    later = f"{storage_pool}/{namespace}/later"
    ceph_admin.create_image(later, "32M")
    written(ceph_admin, later)
    page = client.get(reverse("tenant-detail", args=[namespace])).content.decode()
    assert 'data-testid="tenant-provisioned-used"' in page and "224 MiB provisioned" in page
    assert f"{binary_size(used)} used" in page and "measured <time" in page and "0\xa0minutes ago" in page
    assert "1 image without fast-diff" in page
    usage_sample_take(progress=lambda done, total: None)
    assert usage.tenant_used_sampled(actor=viewer, tenant=tenant).used == used + rbd_du(ceph_admin, later)[None]
