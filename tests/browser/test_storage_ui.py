"""An operator's way through the storage UI in a real browser, against the real dev Ceph cluster:
create an image, see it in the table, resize it, snapshot it, delete it to the trash, restore it;
snapshot, protect, clone and flatten (following the background task), and shrink after confirming."""

import re
import uuid

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from storage.services.images import image_create, image_get
from storage.services.pools import pool_create, pool_delete, pool_list
from storage.validation import GiB, MiB

pytestmark = pytest.mark.browser


@pytest.fixture
def ui_pool(transactional_db, ceph_cluster, admin_user):
    name = f"ui-{uuid.uuid4().hex[:8]}"
    pool_create(actor=admin_user, cluster=ceph_cluster, name=name, pg_num=8)
    yield name
    if name in {found.name for found in pool_list(actor=admin_user, cluster=ceph_cluster)}:
        pool_delete(actor=admin_user, cluster=ceph_cluster, name=name, confirm_name=name)


def test_image_lifecycle_from_create_to_restore(logged_in_page: Page, live_server, ui_pool, ceph_cluster, admin_user):
    page = logged_in_page
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Storage").click()
    page.locator(f'[data-testid="pool-row"][data-name="{ui_pool}"]').get_by_role("link", name=ui_pool).click()

    expect(page.get_by_test_id("empty-state")).to_have_text(f"No images in pool {ui_pool} — create one")
    page.get_by_role("link", name="create one").click()
    page.get_by_label("Image name").fill("web-data")
    page.get_by_label("Size", exact=True).fill("1")
    page.get_by_role("button", name="Create image").click()

    row = page.locator('[data-testid="image-row"][data-name="web-data"]')
    expect(row).to_be_visible()
    expect(row.get_by_test_id("image-size")).to_have_text("1 GiB")
    expect(page.locator("#toasts")).to_contain_text("Image web-data created.")

    # Searching swaps only the table and keeps the search in the address bar.
    page.get_by_role("searchbox").fill("nothing-like-it")
    expect(page.get_by_test_id("empty-state")).to_have_text("Nothing matches “nothing-like-it”.")
    expect(page).to_have_url(re.compile(r"q=nothing-like-it"))
    page.get_by_role("searchbox").fill("web")
    expect(row).to_be_visible()

    row.get_by_role("link", name="web-data").click()
    page.get_by_test_id("image-actions").get_by_role("link", name="Resize").click()
    page.get_by_label("New size").fill("2")
    page.get_by_role("button", name="Resize").click()
    expect(page.get_by_test_id("image-facts").get_by_test_id("image-size")).to_have_text("2 GiB")
    assert (
        image_get(actor=admin_user, cluster=ceph_cluster, pool=ui_pool, namespace="", name="web-data").size == 2 * GiB
    )

    page.get_by_label("Snapshot name").fill("before-upgrade")
    page.get_by_role("button", name="Create snapshot").click()
    expect(page.locator('[data-testid="snapshot-row"][data-name="before-upgrade"]')).to_be_visible()

    page.get_by_test_id("image-actions").get_by_role("link", name="Delete").click()
    expect(page.get_by_label("Move to the RBD trash (can be restored)")).to_be_checked()
    page.get_by_role("button", name="Delete").click()

    trashed = page.locator('[data-testid="trash-row"][data-name="web-data"]')
    expect(trashed).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("Image web-data moved to the trash.")

    trashed.get_by_role("button", name="Restore").click()
    expect(page.locator('[data-testid="image-row"][data-name="web-data"]')).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("Image web-data restored from the trash.")


def test_snapshot_protect_clone_flatten_and_shrink(
    logged_in_page: Page, live_server, ui_pool, ceph_cluster, admin_user
):
    image_create(actor=admin_user, cluster=ceph_cluster, pool=ui_pool, namespace="", name="golden", size=64 * MiB)
    page = logged_in_page
    page.goto(f"{live_server.url}{reverse('storage:image-detail', args=[ui_pool, 'golden'])}")

    page.get_by_label("Snapshot name").fill("base")
    page.get_by_role("button", name="Create snapshot").click()
    snapshot = page.locator('[data-testid="snapshot-row"][data-name="base"]')
    expect(snapshot).to_be_visible()

    snapshot.get_by_role("button", name="Protect").click()
    expect(page.locator("#toasts")).to_contain_text("Snapshot base protected: it can now be cloned.")
    expect(snapshot.get_by_role("button", name="Unprotect")).to_be_visible()

    snapshot.get_by_role("link", name="Clone").click()
    expect(page.get_by_label("Destination pool")).to_have_value(ui_pool)
    page.get_by_label("New image name").fill("child")
    page.get_by_role("button", name="Clone").click()
    expect(page.locator("#toasts")).to_contain_text("Clone child created from golden@base.")
    expect(page.get_by_test_id("image-facts")).to_contain_text(f"{ui_pool}/golden@base")

    page.get_by_test_id("image-actions").get_by_role("link", name="Flatten").click()
    expect(page.get_by_test_id("confirm-warning")).to_contain_text("no longer depends on the parent")
    page.get_by_role("button", name="Flatten").click()

    # The progress page polls itself until the task has finished, then offers the way back.
    expect(page).to_have_url(re.compile(r"/tasks/"))
    task = page.get_by_test_id("task-status")
    expect(task.get_by_role("progressbar", name="Progress")).to_be_visible()
    expect(task).to_have_attribute("data-task-status", "succeeded", timeout=60_000)
    page.get_by_test_id("task-continue").click()
    expect(page.get_by_test_id("image-facts")).to_be_visible()
    expect(page).to_have_url(re.compile(re.escape(reverse("storage:image-detail", args=[ui_pool, "child"])) + "$"))
    expect(page.get_by_test_id("image-actions").get_by_role("link", name="Flatten")).to_have_count(0)
    assert image_get(actor=admin_user, cluster=ceph_cluster, pool=ui_pool, namespace="", name="child").parent is None

    page.get_by_test_id("image-actions").get_by_role("link", name="Resize").click()
    page.get_by_label("New size").fill("32")
    page.get_by_label("Unit").select_option("MiB")
    page.get_by_role("button", name="Resize").click()
    expect(page.get_by_test_id("shrink-warning")).to_contain_text("64 MiB → 32 MiB")
    assert (
        image_get(actor=admin_user, cluster=ceph_cluster, pool=ui_pool, namespace="", name="child").size == 64 * MiB
    ), "nothing shrinks before the second step"
    page.get_by_label("Shrink anyway: the data at the end of the image is lost").check()
    page.get_by_role("button", name="Resize").click()
    expect(page.get_by_test_id("image-facts").get_by_test_id("image-size")).to_have_text("32 MiB")
    assert image_get(actor=admin_user, cluster=ceph_cluster, pool=ui_pool, namespace="", name="child").size == 32 * MiB
