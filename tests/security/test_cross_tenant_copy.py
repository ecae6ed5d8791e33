"""Attack: a user who is only a viewer in tenant A and an operator in tenant B takes A's data by
copying or cloning A's image into B's namespace through the API. Both must be refused, and
nothing may appear in B's namespace."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from dashboard.tenancy.models import Membership
from tests.helpers import api_client_as
from tests.integration.tenancy.conftest import pool_with_team_namespaces, teams  # noqa: F401 (fixture)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shared_pool(ceph_admin):
    """A fresh pool with namespaces team-a and team-b for each attack, so none starts from another's images."""
    yield from pool_with_team_namespaces(ceph_admin, "attack")


@pytest.fixture
def attacker(teams):  # noqa: F811
    user = get_user_model().objects.create_user("a-viewer-b-operator", password="pw-not-used-0")
    Membership.objects.create(user=user, tenant=teams.a, role="viewer")
    Membership.objects.create(user=user, tenant=teams.b, role="operator")
    return user


def images_in(ceph_admin, pool: str, namespace: str) -> list[str]:
    return json.loads(ceph_admin.rbd("ls", "--format", "json", f"{pool}/{namespace}"))


def test_viewer_cannot_copy_a_tenants_image_into_their_own_tenant(teams, attacker, ceph_admin):  # noqa: F811
    ceph_admin.create_image(f"{teams.pool}/team-a/crown-jewels", "64M")
    api = api_client_as(attacker)

    response = api.post(
        reverse("api:storage-image-copy", kwargs={"pool": teams.pool, "name": "crown-jewels"}) + "?namespace=team-a",
        {"dest_pool": teams.pool, "dest_namespace": "team-b", "dest_name": "loot"},
        format="json",
    )

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "role_denied"
    assert "loot" not in images_in(ceph_admin, teams.pool, "team-b")


def test_viewer_cannot_clone_a_tenants_snapshot_into_their_own_tenant(teams, attacker, ceph_admin):  # noqa: F811
    ceph_admin.create_image(f"{teams.pool}/team-a/golden", "64M", snapshots=("base",), protected=("base",))
    api = api_client_as(attacker)

    response = api.post(
        reverse("api:storage-snapshot-clone", kwargs={"pool": teams.pool, "name": "golden", "snapshot": "base"})
        + "?namespace=team-a",
        {"dest_pool": teams.pool, "dest_namespace": "team-b", "dest_name": "loot"},
        format="json",
    )

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "role_denied"
    assert "loot" not in images_in(ceph_admin, teams.pool, "team-b")
