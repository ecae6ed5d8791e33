"""Isolation and quotas through the API and the UI: another tenant's place answers exactly as a
missing one does, and the attempt is recorded as denied."""

import uuid

import pytest
from django.urls import reverse

from dashboard.audit.models import AuditEvent
from storage.models import StorageQuota
from tests.helpers import api_client_as

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def images_url(pool: str, namespace: str) -> str:
    return f"{reverse('api:storage-image-list', kwargs={'pool': pool})}?namespace={namespace}"


def test_api_lists_only_own_images_and_hides_other_tenants(teams, ceph_admin):
    ceph_admin.create_image(f"{teams.pool}/team-b/secret-b", "64M")
    api = api_client_as(teams.members["viewer"])
    assert api.get(images_url(teams.pool, "team-a")).status_code == 200

    other = api.get(images_url(teams.pool, "team-b"))
    missing = api.get(images_url(teams.pool, "no-such-namespace"))
    assert other.status_code == missing.status_code == 404
    assert other.json()["code"] == missing.json()["code"] == "tenant_denied"
    assert other.json()["detail"].replace("team-b", "X") == missing.json()["detail"].replace("no-such-namespace", "X")

    detail = api.get(
        f"{reverse('api:storage-image-detail', kwargs={'pool': teams.pool, 'name': 'secret-b'})}?namespace=team-b"
    )
    assert detail.status_code == 404
    denied = AuditEvent.objects.filter(action="tenancy.access", outcome="denied", actor_name="a-viewer")
    assert denied.count() == 3
    pools = api.get(reverse("api:storage-pool-list")).json()
    assert [pool["name"] for pool in pools] == [teams.pool]


def test_api_create_in_another_tenant_is_404_and_denied(teams):
    api = api_client_as(teams.members["admin"])
    response = api.post(images_url(teams.pool, "team-b"), {"name": "intruder", "size": "64MiB"}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "tenant_denied"
    event = AuditEvent.objects.get(action="storage.image.create")
    assert (event.outcome, event.actor_name) == ("denied", "a-admin")


def test_api_quota_refusal_says_which_limit_and_by_how_much(teams):
    StorageQuota.objects.filter(tenant=teams.a).update(max_provisioned_gib=1)
    api = api_client_as(teams.members["operator"])
    url = images_url(teams.pool, "team-a")
    assert api.post(url, {"name": f"fits-{uuid.uuid4().hex[:6]}", "size": "768MiB"}, format="json").status_code == 201
    refused = api.post(url, {"name": "too-big", "size": "512MiB"}, format="json")
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "quota_exceeded" and body["limit"] == "max_provisioned_gib"
    assert (body["used"], body["maximum"], body["excess"]) == (768 << 20, 1 << 30, 256 << 20)
    assert "256 MiB over" in body["detail"]
    event = AuditEvent.objects.filter(action="storage.image.create", outcome="denied").get()
    assert event.tenant_slug == "team-a"


def test_over_a_lowered_limit_a_tenant_can_still_shrink_and_delete(teams, ceph_admin):
    name = f"big-{uuid.uuid4().hex[:6]}"
    ceph_admin.create_image(f"{teams.pool}/team-a/{name}", "2G")
    StorageQuota.objects.filter(tenant=teams.a).update(max_provisioned_gib=1, max_image_gib=1)
    api = api_client_as(teams.members["admin"])
    detail = f"{reverse('api:storage-image-detail', kwargs={'pool': teams.pool, 'name': name})}?namespace=team-a"
    grown = api.patch(detail, {"size": "3GiB"}, format="json")
    assert grown.status_code == 409 and grown.json()["code"] == "quota_exceeded"
    shrunk = api.patch(detail, {"size": "1536MiB", "allow_shrink": True}, format="json")
    assert shrunk.status_code == 200, shrunk.json()
    assert api.delete(detail).status_code == 204


def test_ui_hides_other_tenants(teams, client):
    client.force_login(teams.members["viewer"])
    own = client.get(reverse("storage:image-list", args=[teams.pool]), {"namespace": "team-a"})
    assert own.status_code == 200
    other = client.get(reverse("storage:image-list", args=[teams.pool]), {"namespace": "team-b"})
    assert other.status_code == 404
    pools = client.get(reverse("storage:pool-list"))
    assert teams.pool in pools.content.decode()
    create = client.post(
        f"{reverse('storage:image-create', args=[teams.pool])}?namespace=team-b",
        {"name": "x", "size": "64", "size_unit": "MiB", "object_size": str(4 << 20), "features": "default"},
    )
    assert create.status_code == 404
    assert AuditEvent.objects.filter(outcome="denied", actor_name="a-viewer").count() == 2


def test_tenant_page_shows_usage_meters_and_only_own_tenants(teams, client, ceph_admin):
    StorageQuota.objects.filter(tenant=teams.a).update(max_images=4)
    ceph_admin.create_image(f"{teams.pool}/team-a/page-{uuid.uuid4().hex[:6]}", "64M")
    client.force_login(teams.members["viewer"])
    page = client.get(reverse("tenant-detail", args=["team-a"]))
    html = page.content.decode()
    assert page.status_code == 200
    assert '<meter class="quota-meter" min="0" max="4"' in html
    assert client.get(reverse("tenant-detail", args=["team-b"])).status_code == 404
    assert client.get(reverse("tenant-list")).status_code == 302  # one tenant: straight to it


def test_create_form_shows_what_the_image_would_use(teams, client):
    StorageQuota.objects.filter(tenant=teams.a).update(max_provisioned_gib=60)
    client.force_login(teams.members["operator"])
    form = client.get(f"{reverse('storage:image-create', args=[teams.pool])}?namespace=team-a")
    assert form.status_code == 200 and 'id="quota-preview"' in form.content.decode()
    preview = client.get(
        reverse("tenant-quota-preview"), {"pool": teams.pool, "namespace": "team-a", "size": "40", "size_unit": "GiB"}
    )
    assert "This image uses 40 GiB of your remaining" in preview.content.decode()
    assert "(tenant team-a)." in preview.content.decode()
    too_much = client.get(
        reverse("tenant-quota-preview"), {"pool": teams.pool, "namespace": "team-a", "size": "61", "size_unit": "GiB"}
    )
    assert "more than is left, so it would be refused" in too_much.content.decode()
