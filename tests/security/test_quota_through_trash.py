"""Attack: a tenant's admin provisions past the tenant's storage quota through the trash and
through snapshot rollback, using only the API. Each sequence must end within the quota, with the
step that would overrun it refused as `quota_exceeded`.

Usage is read back with the `rbd` CLI, trash included, independently of Berth."""

import json

import pytest
from django.urls import reverse

from storage.models import StorageQuota
from tests.helpers import api_client_as
from tests.integration.tenancy.conftest import pool_with_team_namespaces, teams  # noqa: F401 (fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shared_pool(ceph_admin):
    """A fresh pool with namespaces team-a and team-b for each attack, so none starts from another's images."""
    yield from pool_with_team_namespaces(ceph_admin, "attack")


GIB = 1 << 30


def provisioned_in_ceph(ceph_admin, pool: str, namespace: str) -> int:
    """Sizes of the namespace's images, live and in the trash, as `rbd` reports them."""
    place = f"{pool}/{namespace}"
    listing = json.loads(ceph_admin.rbd("ls", "-l", "--format", "json", place))
    # `rbd ls -l` lists each snapshot as an entry of its own; only the images' own sizes count.
    live = sum(entry["size"] for entry in listing if "snapshot" not in entry)
    trashed = 0
    for entry in json.loads(ceph_admin.rbd("trash", "ls", "--format", "json", place)):
        info = json.loads(ceph_admin.rbd("info", "--image-id", entry["id"], "--format", "json", place))
        trashed += info["size"]
    return live + trashed


def create(api, pool: str, name: str, size: str):
    return api.post(
        reverse("api:storage-image-list", kwargs={"pool": pool}) + "?namespace=team-a",
        {"name": name, "size": size},
        format="json",
    )


def image_url(pool: str, name: str, suffix: str = "") -> str:
    return reverse("api:storage-image-detail", kwargs={"pool": pool, "name": name}) + suffix + "?namespace=team-a"


def test_trash_create_restore_does_not_overrun_the_quota(teams, ceph_admin):  # noqa: F811
    StorageQuota.objects.filter(tenant=teams.a).update(max_provisioned_gib=10)
    api = api_client_as(teams.members["admin"])
    assert create(api, teams.pool, "trash-base", "5GiB").status_code == 201
    assert create(api, teams.pool, "trash-victim", "4GiB").status_code == 201
    trashed = api.delete(image_url(teams.pool, "trash-victim"))
    assert trashed.status_code == 204
    [entry] = api.get(reverse("api:storage-trash-list", kwargs={"pool": teams.pool}) + "?namespace=team-a").json()

    created = create(api, teams.pool, "trash-newcomer", "4GiB")
    restored = api.post(
        reverse("api:storage-trash-restore", kwargs={"pool": teams.pool, "image_id": entry["id"]})
        + "?namespace=team-a",
        {},
        format="json",
    )

    statuses = (created.status_code, restored.status_code)
    assert statuses != (201, 200), "trash, create and restore together went past the quota"
    refused = created if created.status_code != 201 else restored
    assert refused.status_code == 409 and refused.json()["code"] == "quota_exceeded"
    assert provisioned_in_ceph(ceph_admin, teams.pool, "team-a") <= 10 * GIB


def test_rollback_to_a_larger_snapshot_does_not_overrun_the_quota(teams, ceph_admin):  # noqa: F811
    StorageQuota.objects.filter(tenant=teams.a).update(max_provisioned_gib=10)
    api = api_client_as(teams.members["admin"])
    assert create(api, teams.pool, "rollback-big", "10GiB").status_code == 201
    snapshots = reverse("api:storage-image-detail", kwargs={"pool": teams.pool, "name": "rollback-big"}) + "snapshots/"
    assert api.post(snapshots + "?namespace=team-a", {"name": "at-10g"}, format="json").status_code == 201
    shrunk = api.patch(
        image_url(teams.pool, "rollback-big"),
        {"size": "1GiB", "allow_shrink": True},
        format="json",
    )
    assert shrunk.status_code == 200
    assert create(api, teams.pool, "rollback-other", "9GiB").status_code == 201

    rolled_back = api.post(snapshots + "at-10g/rollback/?namespace=team-a")

    assert rolled_back.status_code == 409, rolled_back.content
    assert rolled_back.json()["code"] == "quota_exceeded"
    assert provisioned_in_ceph(ceph_admin, teams.pool, "team-a") == 10 * GIB
