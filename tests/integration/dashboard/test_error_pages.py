"""Errors inside Berth's layout: a refusal says who can grant access, a missing page offers the way
back, an unreachable cluster is named, and a server error gives the request id to quote."""

import pytest
from django.test import Client
from django.urls import reverse

from registry.models import KubeCluster
from storage.models import CephCluster
from tests.helpers import two_tenants
from tests.services.ceph import free_loopback_port

pytestmark = pytest.mark.integration

LAYOUT = '<a class="navbar-brand" href="/">Berth</a>'


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def team(db):
    a, _, members, _ = two_tenants()
    return a, members


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_a_tenant_member_opening_activity_is_told_who_can_grant_it(team, role):
    _, members = team
    response = signed_in(members[role]).get(reverse("activity"))

    page = response.content.decode()
    assert response.status_code == 403
    assert LAYOUT in page and "<title>Activity · Berth</title>" in page
    assert "Activity is for tenant admins and platform admins" in page
    assert "tenant team-a: a-admin" in page, "names the admins who can make them one"


def test_activity_after_an_htmx_history_restore_is_the_whole_page(admin_client):
    restored = admin_client.get(
        reverse("activity"), {"outcome": "denied"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    ).content.decode()
    filtered = admin_client.get(reverse("activity"), {"outcome": "denied"}, HTTP_HX_REQUEST="true").content.decode()

    assert LAYOUT in restored and "<form" in restored and 'id="activity-table"' in restored
    assert LAYOUT not in filtered and 'id="activity-table"' in filtered


def test_an_unknown_address_is_a_page_with_the_way_back(admin_client):
    response = admin_client.get("/no-such-page/")

    page = response.content.decode()
    assert response.status_code == 404
    assert LAYOUT in page and "Page not found" in page
    assert f'href="{reverse("overview")}"' in page


def test_a_refusal_by_a_service_says_who_grants_the_role(team, settings):
    tenant, members = team
    response = signed_in(members["viewer"]).post(
        reverse("tenant-member-set", args=[tenant.slug]), {"username": "a-viewer", "role": "admin"}
    )

    page = response.content.decode()
    assert response.status_code == 403
    assert LAYOUT in page and "This needs the admin role in tenant team-a; you are viewer." in page
    assert "a tenant's admins give roles in their tenant" in page


def test_an_unreachable_kubernetes_cluster_is_named_inside_the_layout(admin_client, db, kube_apiserver, tmp_path):
    dead = tmp_path / "dead.kubeconfig"
    dead.write_text(
        kube_apiserver.admin_kubeconfig.read_text().replace(
            kube_apiserver.url, f"https://127.0.0.1:{free_loopback_port()}"
        )
    )
    KubeCluster.objects.create(name="dead", kubeconfig_path=str(dead), is_default=True)

    response = admin_client.get(reverse("registry:secret-list"))

    page = response.content.decode()
    assert response.status_code == 503
    assert LAYOUT in page and "Kubernetes cluster dead" in page and "is unreachable" in page
    assert "The Kubernetes cluster named above did not answer" in " ".join(page.split())


def test_an_unreachable_ceph_cluster_is_named_inside_the_layout(admin_client, settings, ceph_dev_cluster):
    settings.BERTH_CEPH_TIMEOUT = 1
    CephCluster.objects.create(
        name="gone",
        client_name=ceph_dev_cluster.client_name,
        mon_host=f"v2:127.0.0.1:{free_loopback_port()}",
        key_path=str(ceph_dev_cluster.client_key_file),
        is_default=True,
    )

    response = admin_client.get(reverse("storage:pool-list"))

    page = response.content.decode()
    assert response.status_code == 503
    assert LAYOUT in page and "Ceph cluster gone is unreachable" in page
    assert "The Ceph cluster named above did not answer" in " ".join(page.split())


def test_a_server_error_gives_the_request_id_inside_the_layout(admin_user, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("dashboard.activity.activity_events_visible_to", broken)
    browser = Client(raise_request_exception=False)
    browser.force_login(admin_user)

    response = browser.get(reverse("activity"))

    page = response.content.decode()
    assert response.status_code == 500
    assert LAYOUT in page and "Server error" in page
    assert response["X-Request-ID"] in page


@pytest.mark.django_db
def test_an_api_path_no_route_matches_answers_in_the_apis_json_shape(admin_client):
    schedules = reverse("api:storage-snapshot-schedule-list", args=["pool"])
    answer = admin_client.get(f"{schedules}not-a-number/")
    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["code"] == "not_found"
    assert admin_client.get("/no-such-page/")["Content-Type"].startswith("text/html")
