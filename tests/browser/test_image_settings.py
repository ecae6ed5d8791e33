"""An operator's way through an image's settings in a real browser, against the real dev Ceph cluster:
set a QoS limit, switch features (seeing why librbd's rules refuse a change, then making it), add
and remove a metadata key. Each step is photographed to test-artifacts/screenshots/."""

import uuid
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from storage.services.images import image_create, image_get
from storage.services.metadata import image_metadata_list
from storage.services.pools import pool_create, pool_delete
from storage.services.qos import image_qos_get
from storage.validation import MiB

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("test-artifacts/screenshots")


@pytest.fixture
def image(transactional_db, ceph_cluster, admin_user):
    pool = f"set-{uuid.uuid4().hex[:8]}"
    pool_create(actor=admin_user, cluster=ceph_cluster, name=pool, pg_num=8)
    image_create(actor=admin_user, cluster=ceph_cluster, pool=pool, namespace="", name="web-data", size=64 * MiB)
    yield {"actor": admin_user, "cluster": ceph_cluster, "pool": pool, "namespace": "", "name": "web-data"}
    pool_delete(actor=admin_user, cluster=ceph_cluster, name=pool, confirm_name=pool)


def photograph(page: Page, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"image-settings-{step}.png", full_page=True)


def test_qos_features_and_metadata_of_an_image(logged_in_page: Page, live_server, image):
    page = logged_in_page
    page.goto(f"{live_server.url}{reverse('storage:image-detail', args=[image['pool'], 'web-data'])}")
    actions = page.get_by_test_id("image-actions")

    actions.get_by_role("link", name="QoS").click()
    expect(page.get_by_test_id("qos-krbd-note")).to_contain_text("krbd")
    page.get_by_label("IOPS limit", exact=True).fill("500")
    photograph(page, "qos")
    page.get_by_role("button", name="Save limits").click()
    expect(page.locator("#toasts")).to_contain_text("QoS limits of web-data saved.")
    limits = {setting.option: (setting.value, setting.source) for setting in image_qos_get(**image)}
    assert limits["rbd_qos_iops_limit"] == (500, "image")

    actions.get_by_role("link", name="Features").click()
    features = page.get_by_label("exclusive-lock")
    expect(features).to_be_checked()
    features.uncheck()
    page.get_by_role("button", name="Apply").click()
    refusal = page.locator('[data-field="exclusive-lock"]').get_by_role("alert")
    expect(refusal).to_contain_text("object-map needs exclusive-lock")
    photograph(page, "features-refused")
    assert "exclusive-lock" in image_get(**image).features

    # Disabling object-map and fast-diff with it is allowed; enabling all three again rebuilds the map.
    page.get_by_label("object-map").uncheck()
    page.get_by_label("fast-diff").uncheck()
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#toasts")).to_contain_text("Features of web-data: layering, deep-flatten.")
    assert not {"exclusive-lock", "object-map", "fast-diff"} & set(image_get(**image).features)
    actions.get_by_role("link", name="Features").click()
    for name in ("exclusive-lock", "object-map", "fast-diff"):
        page.get_by_label(name).check()
    photograph(page, "features")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#toasts")).to_contain_text("exclusive-lock, object-map, fast-diff")
    assert {"exclusive-lock", "object-map", "fast-diff"} <= set(image_get(**image).features)

    actions.get_by_role("link", name="Metadata").click()
    # The QoS limit is metadata too, changed only through the QoS page.
    qos_row = page.locator('[data-testid="metadata-row"][data-key="conf_rbd_qos_iops_limit"]')
    expect(qos_row.get_by_role("link", name="on the QoS page")).to_be_visible()
    page.get_by_label("Key").fill("owner")
    page.get_by_label("Value").fill("web team")
    page.get_by_role("button", name="Set", exact=True).click()
    row = page.locator('[data-testid="metadata-row"][data-key="owner"]')
    expect(row).to_contain_text("web team")
    photograph(page, "metadata")
    assert {entry.key: entry.value for entry in image_metadata_list(**image)}["owner"] == "web team"

    row.get_by_role("link", name="Remove owner").click()
    expect(page.get_by_test_id("confirm-warning")).to_contain_text("The value of owner is lost.")
    page.get_by_role("button", name="Remove").click()
    expect(page.locator("#toasts")).to_contain_text("Metadata owner of web-data removed.")
    expect(row).to_have_count(0)
    assert "owner" not in {entry.key for entry in image_metadata_list(**image)}
