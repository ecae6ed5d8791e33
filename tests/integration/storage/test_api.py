import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from dashboard.tasks.models import BackgroundTask
from tests.helpers import api_token_for, unique_name, wait_for_task

# Background tasks run in worker threads with their own database connections.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def api(admin_user, ceph_cluster) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(admin_user)}")
    return client


def images_url(pool: str) -> str:
    return reverse("api:storage-image-list", kwargs={"pool": pool})


def test_requires_authentication(ceph_cluster, storage_pool):
    response = APIClient().get(images_url(storage_pool))
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"


def test_pool_list_and_unknown_pool(api, storage_pool):
    pools = api.get(reverse("api:storage-pool-list")).json()
    assert storage_pool in {pool["name"] for pool in pools}
    missing = api.get(images_url("no-such-pool"))
    assert missing.status_code == 404
    assert missing.json()["code"] == "pool_not_found"


def test_image_lifecycle_over_the_api(api, storage_pool):
    name = unique_name("api")
    created = api.post(images_url(storage_pool), {"name": name, "size": "1GiB"}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["size"] == 1 << 30

    detail_url = reverse("api:storage-image-detail", kwargs={"pool": storage_pool, "name": name})
    shrink = api.patch(detail_url, {"size": "512MiB"}, format="json")
    assert (shrink.status_code, shrink.json()["code"]) == (400, "shrink_not_confirmed")
    grown = api.patch(detail_url, {"size": "2GiB"}, format="json")
    assert grown.json()["size"] == 2 << 30

    snapshots_url = reverse("api:storage-snapshot-list", kwargs={"pool": storage_pool, "name": name})
    assert api.post(snapshots_url, {"name": "s1"}, format="json").status_code == 201
    protect = reverse("api:storage-snapshot-protect", kwargs={"pool": storage_pool, "name": name, "snapshot": "s1"})
    assert api.post(protect, {}, format="json").status_code == 204
    clone_url = reverse("api:storage-snapshot-clone", kwargs={"pool": storage_pool, "name": name, "snapshot": "s1"})
    clone = api.post(clone_url, {"dest_pool": storage_pool, "dest_name": f"{name}-clone"}, format="json")
    assert clone.status_code == 201 and clone.json()["parent"] == f"{storage_pool}/{name}@s1"

    flatten = api.post(
        reverse("api:storage-image-flatten", kwargs={"pool": storage_pool, "name": f"{name}-clone"}), {}, format="json"
    )
    assert flatten.status_code == 202
    wait_for_task(BackgroundTask.objects.get(pk=flatten.json()["id"]))
    task = api.get(reverse("api:task-detail", kwargs={"task_id": flatten.json()["id"]})).json()
    assert (task["status"], task["progress"]) == ("succeeded", 100)

    assert api.patch(detail_url, {"size": "3GiB"}, format="json").json()["size"] == 3 << 30
    page = api.get(images_url(storage_pool), {"ordering": "-size", "page_size": 1, "search": name}).json()
    assert page["count"] == 2 and page["results"][0]["name"] == name
    assert "page=2" in page["next"]


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"name": "", "size": "1GiB"}, "name", "blank"),
        ({"name": "a/b", "size": "1GiB"}, "name", "slash"),
        ({"name": "x" * 256, "size": "1GiB"}, "name", "at most 255"),
        ({"name": "ok", "size": "0"}, "size", "greater than 0"),
        ({"name": "ok", "size": "1.5"}, "size", "whole number of bytes"),
        ({"name": "ok", "size": "2EiB"}, "size", "at most 1 EiB"),
        ({"name": "ok", "size": "big"}, "size", "not a size"),
        ({"name": "ok", "size": "1GiB", "object_size": "3MiB"}, "object_size", "power of two"),
    ],
)
def test_bad_input_names_field_and_rule(api, storage_pool, body, field, rule):
    response = api.post(images_url(storage_pool), body, format="json")
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid"
    assert rule in " ".join(error["fields"][field])


def test_pool_create_validates_pg_num(api):
    response = api.post(reverse("api:storage-pool-list"), {"name": unique_name("p"), "pg_num": 0}, format="json")
    assert response.status_code == 400 and "pg_num" in response.json()["fields"]
