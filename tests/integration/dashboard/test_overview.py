"""The overview against the real cluster: live figures, both connection styles, a wrong key,
and a monitor that goes away and comes back."""

import subprocess
import time

import pytest
from django.urls import reverse

from storage.models import CephCluster

pytestmark = pytest.mark.integration


def test_the_overview_shows_what_ceph_health_prints(admin_client, ceph_cluster, ceph_admin):
    expected = ceph_admin.ceph("health").strip()
    response = admin_client.get(reverse("overview-health"))
    assert response.status_code == 200
    assert response.context["overview"].health_text == expected
    assert expected in response.content.decode()


def test_the_api_reports_live_figures(admin_client, ceph_cluster, ceph_admin):
    body = admin_client.get(reverse("api:overview")).json()
    osd_stat = ceph_admin.ceph("osd", "stat").strip()
    assert body["cluster"] == "local"
    assert body["health_text"] == ceph_admin.ceph("health").strip()
    assert body["osds_total"] == 1 and body["osds_up"] == 1 and body["osds_in"] == 1, osd_stat
    assert body["bytes_total"] > 0
    assert body["pool_count"] == len(ceph_admin.pools())


def test_the_monitor_host_and_key_file_style_connects(admin_client, db, ceph_dev_cluster):
    CephCluster.objects.create(
        name="by-mon-host",
        client_name=ceph_dev_cluster.client_name,
        mon_host=ceph_dev_cluster.mon_host,
        key_path=str(ceph_dev_cluster.client_key_file),
    )
    response = admin_client.get(reverse("api:overview"), {"cluster": "by-mon-host"})
    assert response.status_code == 200, response.content
    assert response.json()["health_status"].startswith("HEALTH_")


@pytest.mark.parametrize(
    ("key", "code"),
    [
        # A well-formed cephx key that the cluster never issued.
        (
            subprocess.run(["ceph-authtool", "--gen-print-key"], capture_output=True, text=True).stdout.strip(),
            "ceph_auth_failed",
        ),
        ("bm90IGEgY2VwaHgga2V5", "ceph_key_invalid"),
    ],
    # The generated key differs in every process: ids that do not show it let pytest-xdist's workers agree.
    ids=["unissued-key", "not-a-key"],
)
def test_a_wrong_key_names_the_client_and_the_file(admin_client, db, ceph_dev_cluster, tmp_path, key, code):
    key_file = tmp_path / "wrong.key"
    key_file.write_text(key + "\n")
    CephCluster.objects.create(
        name="wrong-key",
        client_name=ceph_dev_cluster.client_name,
        mon_host=ceph_dev_cluster.mon_host,
        key_path=str(key_file),
    )
    started = time.monotonic()
    response = admin_client.get(reverse("api:overview"), {"cluster": "wrong-key"})
    assert time.monotonic() - started < 10
    assert response.status_code == 503
    assert response.json()["code"] == code
    detail = response.json()["detail"]
    assert ceph_dev_cluster.client_name in detail and str(key_file) in detail, detail


def test_a_stopped_monitor_fails_fast_and_berth_recovers_by_itself(
    admin_client, ceph_cluster, ceph_dev_cluster_service
):
    assert admin_client.get(reverse("api:overview")).status_code == 200
    with ceph_dev_cluster_service.mon_stopped():
        started = time.monotonic()
        page = admin_client.get(reverse("overview-health"))
        assert time.monotonic() - started < 5
        assert "Ceph cluster local is unreachable" in page.content.decode()

        started = time.monotonic()
        api = admin_client.get(reverse("api:overview"))
        assert time.monotonic() - started < 5
        assert api.status_code == 503
        assert api.json()["code"] == "ceph_unreachable"
        assert api.json()["detail"].startswith("Ceph cluster local is unreachable: ")

    deadline = time.monotonic() + 60
    status = None
    while time.monotonic() < deadline:
        status = admin_client.get(reverse("api:overview")).status_code
        if status == 200:
            break
        time.sleep(1)
    assert status == 200
