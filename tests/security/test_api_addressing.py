"""Issue 13: the same API URL acted on a different image depending on the method.

With an image of one name in RBD namespace `ns1` and another in the pool's default namespace,
`GET /api/.../images/<name>/?namespace=ns1` showed ns1's image, but PATCH, DELETE and the POST
actions read the namespace from the JSON body: a DELETE of the very URL the GET had shown, with no
body, moved the *default* namespace's image to the trash. Each test below is a request a client
makes after reading ns1's image at that URL; each must act on ns1's image and leave the default
namespace's twin alone. A body that still carries the namespace (as old clients send it) is
refused, since ignoring it would send the old client's request to the default namespace.

The state of both images is read with Ceph's own CLI, independently of Berth.
"""

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.helpers import api_client_as, unique_name

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

NAMESPACE = "ns1"


@pytest.fixture(scope="module")
def pool_with_ns1(ceph_admin, storage_pool) -> str:
    ceph_admin.create_namespace(f"{storage_pool}/{NAMESPACE}")
    return storage_pool


@pytest.fixture
def twins(ceph_admin, pool_with_ns1) -> str:
    """One image name, taken in both the default namespace and ns1 (64 MiB each)."""
    name = unique_name("x")
    ceph_admin.create_image(f"{pool_with_ns1}/{name}", "64M")
    ceph_admin.create_image(f"{pool_with_ns1}/{NAMESPACE}/{name}", "64M")
    return name


@pytest.fixture
def api(admin_user, ceph_cluster) -> APIClient:
    return api_client_as(admin_user)


def _image(ceph_admin, pool: str, namespace: str, name: str) -> dict | None:
    """Size and snapshots of the image, None when it is gone (trashed or removed)."""
    spec = f"{pool}/{namespace}/{name}" if namespace else f"{pool}/{name}"
    listed = ceph_admin.rbd("ls", "--format", "json", f"{pool}/{namespace}" if namespace else pool)
    if name not in json.loads(listed):
        return None
    info = json.loads(ceph_admin.rbd("info", "--format", "json", spec))
    snaps = json.loads(ceph_admin.rbd("snap", "ls", "--format", "json", spec))
    return {"size": info["size"], "snapshots": sorted(snap["name"] for snap in snaps)}


def _url(route: str, pool: str, name: str, **kwargs) -> str:
    return f"{reverse(route, kwargs={'pool': pool, 'name': name, **kwargs})}?namespace={NAMESPACE}"


def test_delete_of_the_url_get_showed_trashes_that_image(api, ceph_admin, pool_with_ns1, twins):
    url = _url("api:storage-image-detail", pool_with_ns1, twins)
    shown = api.get(url)
    assert shown.status_code == 200 and shown.json()["namespace"] == NAMESPACE

    deleted = api.delete(url)

    assert deleted.status_code == 204, deleted.content
    assert _image(ceph_admin, pool_with_ns1, "", twins) == {"size": 64 << 20, "snapshots": []}, (
        "the default namespace's image was deleted through ns1's URL"
    )
    assert _image(ceph_admin, pool_with_ns1, NAMESPACE, twins) is None


def test_patch_resizes_the_image_the_url_names(api, ceph_admin, pool_with_ns1, twins):
    resized = api.patch(_url("api:storage-image-detail", pool_with_ns1, twins), {"size": "128MiB"}, format="json")

    assert resized.status_code == 200, resized.content
    assert resized.json()["namespace"] == NAMESPACE
    assert _image(ceph_admin, pool_with_ns1, "", twins)["size"] == 64 << 20
    assert _image(ceph_admin, pool_with_ns1, NAMESPACE, twins)["size"] == 128 << 20


def test_post_action_snapshots_the_image_the_url_names(api, ceph_admin, pool_with_ns1, twins):
    created = api.post(_url("api:storage-snapshot-list", pool_with_ns1, twins), {"name": "s1"}, format="json")

    assert created.status_code == 201, created.content
    assert _image(ceph_admin, pool_with_ns1, "", twins)["snapshots"] == []
    assert _image(ceph_admin, pool_with_ns1, NAMESPACE, twins)["snapshots"] == ["s1"]


def test_an_old_client_sending_the_namespace_in_the_body_is_refused(api, ceph_admin, pool_with_ns1, twins):
    url = reverse("api:storage-image-detail", kwargs={"pool": pool_with_ns1, "name": twins})

    refused = api.delete(url, {"namespace": NAMESPACE}, format="json")

    assert refused.status_code == 400, refused.content
    error = refused.json()
    assert error["code"] == "namespace_in_body" and error["field"] == "namespace"
    assert "?namespace=" in error["detail"]
    for namespace in ("", NAMESPACE):
        assert _image(ceph_admin, pool_with_ns1, namespace, twins) == {"size": 64 << 20, "snapshots": []}
