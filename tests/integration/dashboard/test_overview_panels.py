"""The overview's panels, each loaded from its own endpoint: one per Ceph cluster and per Kubernetes
cluster, the tenants' usage, recent activity and background tasks. The page itself reads only
Berth's database, so it is up at once when a cluster does not answer, and that cluster's panel
reports the outage."""

import html
import re
import socket
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from kubernetes import client

from dashboard.audit.services import record_event
from dashboard.tasks.models import BackgroundTask
from registry.models import RegistryQuota
from storage.models import CephCluster, StorageBinding, StorageQuota
from tests.helpers import failing_pod, two_tenants, unique_name

pytestmark = pytest.mark.integration

# The bound for the overview page itself while a cluster is down.
PAGE_BOUND = 1.0


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def text_of(response) -> str:
    """What a person reads: the markup's text, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def timed_get(browser: Client, url: str):
    started = time.monotonic()
    response = browser.get(url)
    return response, time.monotonic() - started


def panel_url(name: str, cluster: str) -> str:
    return f"{reverse(name)}?cluster={cluster}"


@pytest.fixture
def team(db):
    a, b, members, outsider = two_tenants()
    return a, b, members, outsider


@pytest.fixture
def silent_ceph_cluster(db, ceph_dev_cluster, settings) -> Iterator[CephCluster]:
    """A cluster whose monitor address is a listening socket nobody answers on (a hung host)."""
    settings.BERTH_CEPH_TIMEOUT = 2
    with socket.create_server(("127.0.0.1", 0), backlog=128) as server:
        yield CephCluster.objects.create(
            name="silent",
            client_name=ceph_dev_cluster.client_name,
            mon_host=f"v2:127.0.0.1:{server.getsockname()[1]}",
            key_path=str(ceph_dev_cluster.client_key_file),
        )


# --- Ceph ----------------------------------------------------------------------------------------


def test_every_ceph_cluster_gets_a_panel_of_its_own(admin_client, ceph_cluster, silent_ceph_cluster, ceph_admin):
    page = admin_client.get(reverse("overview")).content.decode()

    for name in ("local", "silent"):
        assert f'hx-get="{panel_url("overview-health", name)}" hx-trigger="load, every 10s"' in page
    panel = admin_client.get(panel_url("overview-health", "local"))
    assert panel.context["overview"].health_text == ceph_admin.ceph("health").strip()
    assert 'aria-label="Capacity used"' in panel.content.decode()
    assert f'data-testid="pool-count">{len(ceph_admin.pools())}<' in panel.content.decode()


def test_a_dead_ceph_cluster_leaves_the_page_up_and_its_panel_says_so(admin_client, ceph_cluster, silent_ceph_cluster):
    admin_client.get(reverse("tenant-list"))  # the process's first request loads the URLs and templates

    page, page_time = timed_get(admin_client, reverse("overview"))
    panel, panel_time = timed_get(admin_client, panel_url("overview-health", "silent"))
    healthy = admin_client.get(panel_url("overview-health", "local"))

    assert page.status_code == 200
    assert page_time < PAGE_BOUND, f"the page took {page_time:.2f} s"
    assert "Contacting Ceph cluster silent…" in page.content.decode()
    assert panel.status_code == 200, "htmx swaps in only successful answers"
    assert "Ceph cluster silent is unreachable" in text_of(panel)
    assert panel_time < 5
    assert healthy.context["overview"].health_status.startswith("HEALTH_")


def test_tenant_users_see_the_ceph_clusters_holding_their_storage_only(team, ceph_cluster, silent_ceph_cluster):
    a, _, members, _ = team
    StorageBinding.objects.create(tenant=a, cluster=silent_ceph_cluster, pool="rbd", namespace="team-a")
    viewer = signed_in(members["viewer"])

    page = viewer.get(reverse("overview")).content.decode()
    refused = viewer.get(panel_url("overview-health", "local"))

    assert panel_url("overview-health", "silent") in page
    assert panel_url("overview-health", "local") not in page
    assert "Ceph cluster local does not exist, or is not one of your tenants&#x27;" in refused.content.decode()


def test_without_a_cluster_the_sections_say_what_to_do(admin_client, team):
    _, _, members, _ = team
    for_admin = text_of(admin_client.get(reverse("overview")))
    for_member = text_of(signed_in(members["viewer"]).get(reverse("overview")))

    assert "No Ceph cluster is registered: add one in the Django admin" in for_admin
    assert "No Kubernetes cluster is registered: add one in the Django admin" in for_admin
    assert "a platform admin binds a pool or an RBD namespace to your tenant" in for_member
    assert "a platform admin sets your tenant's registry quota" in for_member


# --- Kubernetes ----------------------------------------------------------------------------------


def test_a_kubernetes_panel_shows_the_version_and_the_pods_failing_to_pull(
    admin_client, kube_cluster, kube_admin_api, core, namespace
):
    failing_pod(core, namespace, "api", "registry.example.com/team/api:1.0")
    version = client.VersionApi(kube_admin_api).get_code().git_version

    page = admin_client.get(reverse("overview")).content.decode()
    panel = admin_client.get(panel_url("overview-kube", "local"))

    assert f'hx-get="{panel_url("overview-kube", "local")}"' in page
    body = panel.content.decode()
    assert f'data-testid="kube-version">{version}<' in body
    assert 'data-testid="kube-reachable">yes<' in body
    assert f"{reverse('registry:doctor')}?cluster=local&amp;namespace={namespace}" in body
    assert "pod <code>api</code> (ImagePullBackOff, <code>registry.example.com/team/api:1.0</code>)" in body


def test_tenant_users_see_failing_pods_of_their_namespaces_only(team, kube_cluster, core, namespace, second_namespace):
    a, _, members, _ = team
    RegistryQuota.objects.create(tenant=a, kube_cluster=kube_cluster, namespaces=[namespace])
    failing_pod(core, namespace, "ours", "registry.example.com/team/ours:1")
    failing_pod(core, second_namespace, "theirs", "registry.example.com/team/theirs:1")
    viewer = signed_in(members["viewer"])

    body = viewer.get(panel_url("overview-kube", "local")).content.decode()
    outsider = signed_in(team[3]).get(panel_url("overview-kube", "local")).content.decode()

    assert "<code>ours</code>" in body and "<code>theirs</code>" not in body
    assert second_namespace not in body
    assert "Kubernetes cluster local does not exist, or is not one of your tenants" in html.unescape(outsider)


def test_a_silent_api_server_leaves_the_page_up_and_its_panel_says_so(admin_client, kube_cluster, silent_kube_cluster):
    admin_client.get(reverse("tenant-list"))  # the process's first request loads the URLs and templates

    page, page_time = timed_get(admin_client, reverse("overview"))
    panel, panel_time = timed_get(admin_client, panel_url("overview-kube", "silent"))

    assert page.status_code == 200
    assert page_time < PAGE_BOUND, f"the page took {page_time:.2f} s"
    assert "Contacting Kubernetes cluster silent…" in page.content.decode()
    assert panel.status_code == 200
    assert "Reachable: no" in text_of(panel)
    assert re.search(r"Kubernetes cluster silent .*is unreachable", text_of(panel))
    assert panel_time < 5


# --- Tenants' usage, activity, tasks --------------------------------------------------------------


def test_tenant_users_see_their_usage_against_the_quota(team, ceph_cluster, ceph_admin, storage_pool):
    a, _, members, _ = team
    namespace = unique_name("usage")
    ceph_admin.create_namespace(f"{storage_pool}/{namespace}")
    ceph_admin.create_image(f"{storage_pool}/{namespace}/disk", "64M")
    StorageBinding.objects.create(tenant=a, cluster=ceph_cluster, pool=storage_pool, namespace=namespace)
    StorageQuota.objects.create(tenant=a, max_images=4, max_provisioned_gib=1)
    viewer = signed_in(members["viewer"])

    page = viewer.get(reverse("overview")).content.decode()
    panel = viewer.get(reverse("overview-usage")).content.decode()

    assert f'hx-get="{reverse("overview-usage")}" hx-trigger="load"' in page
    assert 'max="4"' in panel and 'value="1"' in panel and "1 / 4" in panel
    assert "64 MiB / 1 GiB" in panel
    assert 'aria-label="Snapshots used by team-a"' not in panel, "no limit, no bar"
    assert "(unlimited)" in panel


def test_the_usage_panel_reports_a_dead_cluster_per_tenant(team, silent_ceph_cluster):
    a, _, members, _ = team
    StorageBinding.objects.create(tenant=a, cluster=silent_ceph_cluster, pool="rbd", namespace="team-a")

    panel = signed_in(members["viewer"]).get(reverse("overview-usage"))

    assert panel.status_code == 200
    assert "Ceph cluster silent is unreachable" in text_of(panel)


def test_recent_activity_is_what_the_activity_page_shows_the_last_ten_of(team, admin_user):
    a, b, members, outsider = team
    for index in range(12):
        record_event(
            actor=members["operator"],
            action="storage.image.create",
            target={"n": index},
            parameters={},
            outcome="success",
            tenant=a,
        )
    record_event(
        actor=outsider, action="storage.image.create", target={"n": "b"}, parameters={}, outcome="success", tenant=b
    )

    tenant_admin = signed_in(members["admin"])
    page = tenant_admin.get(reverse("overview")).content.decode()
    panel = tenant_admin.get(reverse("overview-activity")).content.decode()
    viewer_page = signed_in(members["viewer"]).get(reverse("overview")).content.decode()

    assert reverse("overview-activity") in page and reverse("overview-activity") not in viewer_page
    shown = [f"n={index}" for index in range(12) if f">n={index}<" in panel]
    assert shown == [f"n={index}" for index in range(2, 12)]
    assert ">n=b<" not in panel
    assert "n=b" in signed_in(admin_user).get(reverse("overview-activity")).content.decode()


def test_tasks_panel_shows_running_and_recently_failed_tasks_of_ones_tenants(team):
    a, b, members, outsider = team
    now = timezone.now()

    def task(name, status, tenant, finished=None, **fields):
        return BackgroundTask.objects.create(
            name=name, status=status, tenant=tenant, target={"image": name}, finished=finished, **fields
        )

    task("copy-running", BackgroundTask.RUNNING, a, progress=40)
    task("flatten-queued", BackgroundTask.QUEUED, a)
    task("copy-failed", BackgroundTask.FAILED, a, finished=now - timedelta(hours=2), message="pool full")
    task("purge-failed-long-ago", BackgroundTask.FAILED, a, finished=now - timedelta(days=3))
    task("copy-done", BackgroundTask.SUCCEEDED, a, finished=now)
    task("copy-of-b", BackgroundTask.RUNNING, b)
    viewer = signed_in(members["viewer"])

    page = viewer.get(reverse("overview")).content.decode()
    panel = viewer.get(reverse("overview-tasks")).content.decode()

    assert f'hx-get="{reverse("overview-tasks")}" hx-trigger="load, every 10s"' in page
    for shown in ("copy-running", "flatten-queued", "copy-failed", "pool full", "running · 40%"):
        assert shown in panel
    for hidden in ("purge-failed-long-ago", "copy-done", "copy-of-b"):
        assert hidden not in panel
    of_b = signed_in(outsider).get(reverse("overview-tasks")).content.decode()
    assert "copy-of-b" in of_b and "copy-running" not in of_b
    loner = get_user_model().objects.create_user("loner", password="pw-not-used-0")
    assert "No background task is running" in signed_in(loner).get(reverse("overview-tasks")).content.decode()
