"""The trash-expiry and snapshot-schedule pages in a real browser, against the real dev Ceph cluster:
an image moved to the trash protected for some days shows "protected" and survives "Purge expired",
goes only when the trash is emptied with the pool's name typed; a snapshot schedule is created from
the image page, shows its run's outcome and is deleted. Each page passes axe (no serious or critical
violation) and is photographed to test-artifacts/screenshots/."""

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from storage.models import SnapshotSchedule
from storage.services.images import image_create
from storage.services.snapshot_schedules import snapshot_schedules_run
from tests.browser.accessibility.sweep import DESKTOP, Audit
from tests.browser.test_storage_ui import ui_pool  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser


def follow_the_task(page: Page) -> None:
    """A purge runs in the background; its progress page offers the way back to the trash when done."""
    expect(page).to_have_url(re.compile(r"/tasks/"))
    expect(page.get_by_test_id("task-status")).to_have_attribute("data-task-status", "succeeded", timeout=60_000)
    page.get_by_test_id("task-continue").click()
    expect(page).to_have_url(re.compile(r"/storage/pools/[^/?]+/trash/"))


def test_trash_expiry_page(logged_in_page: Page, live_server, ui_pool, ceph_cluster, admin_user):  # noqa: F811
    page = logged_in_page
    audit = Audit(page, "trash-expiry", DESKTOP)
    for name in ("kept", "gone"):
        image_create(actor=admin_user, cluster=ceph_cluster, pool=ui_pool, namespace="", name=name, size="64MiB")
    for name, days in (("kept", "3"), ("gone", "0")):
        audit.visit("image-delete", f"{live_server.url}{reverse('storage:image-delete', args=[ui_pool, name])}")
        page.get_by_label("Protect in the trash for (days)").fill(days)
        page.get_by_role("button", name="Delete").click()
        expect(page.locator(f'[data-testid="trash-row"][data-name="{name}"]')).to_be_visible()
        if days != "0":
            expect(page.locator("#toasts")).to_contain_text("protected from purging for 3 day(s)")

    kept = page.locator('[data-testid="trash-row"][data-name="kept"]')
    expect(kept.get_by_test_id("trash-protection")).to_contain_text("protected")
    expect(page.locator('[data-testid="trash-row"][data-name="gone"]').get_by_test_id("trash-protection")).to_have_text(
        "expired"
    )
    expect(page.get_by_test_id("trash-auto-purge")).to_contain_text("automatic purging is off")
    audit.check("trash-expiry")

    page.get_by_role("link", name="Purge expired").click()
    audit.check("trash-purge-expired")
    page.get_by_role("button", name="Purge").click()
    follow_the_task(page)
    expect(kept).to_be_visible()
    expect(page.locator('[data-testid="trash-row"][data-name="gone"]')).to_have_count(0)

    page.get_by_role("link", name="Empty trash").click()
    expect(page.get_by_text("even while it is protected")).to_be_visible()
    audit.check("trash-empty-forced")
    page.get_by_label("Type the name to confirm").fill(ui_pool)
    page.get_by_role("button", name="Purge").click()
    follow_the_task(page)
    expect(page.get_by_test_id("empty-state")).to_be_visible()

    if audit.problems:
        pytest.fail("\n".join(audit.problems), pytrace=False)


def test_snapshot_schedule_page(logged_in_page: Page, live_server, ui_pool, ceph_cluster, admin_user):  # noqa: F811
    page = logged_in_page
    audit = Audit(page, "snapshot-schedules", DESKTOP)
    image_create(actor=admin_user, cluster=ceph_cluster, pool=ui_pool, namespace="", name="db", size="64MiB")

    page.goto(f"{live_server.url}{reverse('storage:image-detail', args=[ui_pool, 'db'])}")
    page.get_by_role("link", name="Schedule snapshots").click()
    expect(page.get_by_label("Image")).to_have_value("db")
    audit.check("snapshot-schedule-create")
    page.get_by_label("Frequency").select_option("daily")
    page.get_by_label("Keep").fill("7")
    page.get_by_role("button", name="Create schedule").click()
    expect(page.locator("#toasts")).to_contain_text("Snapshots of image db are taken daily, keeping the newest 7")
    row = page.get_by_test_id("schedule-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Daily")
    expect(row.get_by_test_id("schedule-outcome")).to_have_text("—")

    snapshot_schedules_run(now=datetime.now(UTC))
    page.reload()
    expect(row.get_by_test_id("schedule-outcome")).to_contain_text("Took 1 snapshot(s), pruned 0.")
    audit.check("snapshot-schedules")

    row.get_by_role("link", name=re.compile("^Delete")).click()
    audit.check("snapshot-schedule-delete")
    page.get_by_role("button", name="Delete schedule").click()
    expect(page.get_by_test_id("empty-state")).to_be_visible()
    assert not SnapshotSchedule.objects.filter(pool=ui_pool).exists()

    if audit.problems:
        pytest.fail("\n".join(audit.problems), pytrace=False)
