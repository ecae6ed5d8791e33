"""The "Use in Kubernetes" page and API of a binding, through Django's test client and DRF's."""

import base64

import pytest
from django.test import Client
from django.urls import reverse

from registry.services.csi import REDACTED
from storage.services.tenant_keys import tenant_key_revoke
from tests.helpers import api_client_as

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def browser_as(user) -> Client:
    web = Client()
    web.force_login(user)
    return web


def test_the_tenant_page_links_the_page_which_shows_the_objects_before_writing(place, core):
    web = browser_as(place.members["admin"])
    tenant_page = web.get(reverse("tenant-detail", args=["team-a"])).content.decode()
    url = reverse("tenant-binding-kubernetes", args=["team-a", place.binding_a.pk])
    assert url in tenant_page

    page = web.get(url).content.decode()

    assert "kind: StorageClass" in page and "berth-team-a-team-a" in page and "radosNamespace" in page
    assert core.list_namespaced_secret(place.csi_namespace).items == []


def test_writing_from_the_page_shows_no_key_and_the_secret_holds_it(place, core):
    web = browser_as(place.members["admin"])
    url = reverse("tenant-binding-kubernetes", args=["team-a", place.binding_a.pk])
    try:
        answer = web.post(url, {"fs_type": "ext4", "reclaim_policy": "Delete", "mint_key": "on"})
        page = answer.content.decode()
        assert answer.status_code == 200 and 'data-testid="key-minted"' in page
        secret = core.read_namespaced_secret("berth-team-a-team-a", place.csi_namespace)
        key = base64.b64decode(secret.data["userKey"]).decode()
        assert key not in page
    finally:
        tenant_key_revoke(actor=place.members["admin"], binding=place.binding_a)


def test_operators_and_outsiders_are_refused(place):
    url = reverse("tenant-binding-kubernetes", args=["team-a", place.binding_a.pk])
    assert (
        browser_as(place.members["operator"]).post(url, {"fs_type": "ext4", "reclaim_policy": "Delete"}).status_code
        == 403
    )
    assert browser_as(place.outsider).get(url).status_code == 404


def test_the_api_writes_and_redacts_the_written_key(place, core):
    api = api_client_as(place.members["admin"])
    url = reverse("api:kubernetes-binding", args=["team-a", place.binding_a.pk])
    preview = api.get(url)
    assert preview.status_code == 200 and preview.json()["objects"][0]["manifest"]["stringData"]["userKey"] == REDACTED
    try:
        answer = api.post(url, {"mint_key": True}, format="json")
        assert answer.status_code == 200, answer.content
        body = answer.json()
        assert [item["outcome"] for item in body["objects"]] == ["created", "created", "created"]
        secret = core.read_namespaced_secret("berth-team-a-team-a", place.csi_namespace)
        assert base64.b64decode(secret.data["userKey"]).decode() not in answer.content.decode()
    finally:
        tenant_key_revoke(actor=place.members["admin"], binding=place.binding_a)
    assert api_client_as(place.members["viewer"]).post(url, {}, format="json").status_code == 403
