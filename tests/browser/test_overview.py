"""The overview in a real browser with one healthy and one dead cluster of each kind: every panel
loads on its own, the healthy ones fill in and the dead ones say which cluster does not answer."""

import socket
import time
from collections.abc import Iterator

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from dashboard.audit.services import record_event
from storage.models import CephCluster

pytestmark = pytest.mark.browser


@pytest.fixture
def silent_ceph_cluster(db, ceph_dev_cluster, settings) -> Iterator[CephCluster]:
    settings.BERTH_CEPH_TIMEOUT = 2
    with socket.create_server(("127.0.0.1", 0), backlog=128) as server:
        yield CephCluster.objects.create(
            name="silent",
            client_name=ceph_dev_cluster.client_name,
            mon_host=f"v2:127.0.0.1:{server.getsockname()[1]}",
            key_path=str(ceph_dev_cluster.client_key_file),
        )


def test_dead_clusters_fail_their_own_panels_only(
    logged_in_page: Page,
    live_server,
    admin_user,
    ceph_cluster,
    ceph_admin,
    silent_ceph_cluster,
    kube_cluster,
    silent_kube_cluster,
):
    record_event(
        actor=admin_user, action="storage.pool.create", target={"pool": "rbd"}, parameters={}, outcome="success"
    )
    page = logged_in_page
    started = time.monotonic()
    page.goto(live_server.url + reverse("overview"), wait_until="domcontentloaded")
    shown_after = time.monotonic() - started

    ceph = {name: page.locator(f'[data-testid="ceph-panel"][data-cluster="{name}"]') for name in ("local", "silent")}
    kube = {name: page.locator(f'[data-testid="kube-panel"][data-cluster="{name}"]') for name in ("local", "silent")}
    expect(ceph["local"].get_by_test_id("health-text")).to_have_text(ceph_admin.ceph("health").strip())
    expect(kube["local"].get_by_test_id("kube-reachable")).to_have_text("yes")
    expect(ceph["silent"]).to_contain_text("Ceph cluster silent is unreachable")
    expect(kube["silent"].get_by_test_id("kube-reachable")).to_contain_text("no")
    expect(kube["silent"].get_by_role("alert")).to_contain_text("is unreachable")
    expect(page.get_by_test_id("tasks-panel")).to_contain_text("No background task is running")
    expect(page.get_by_test_id("activity-panel").get_by_test_id("recent-activity")).to_contain_text("pool=rbd")
    assert shown_after < 1.0, f"the page took {shown_after:.2f} s"
