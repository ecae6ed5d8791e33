"""A tenant's usage counts the images in its trash, snapshots included, until they are purged:
they still hold their data and can come back at any time. The tenant page says so."""

import pytest
from django.urls import reverse

from storage.models import StorageQuota
from storage.services.quotas import tenant_usage_rows
from tests.integration.tenancy.conftest import pool_with_team_namespaces

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MIB = 1 << 20


@pytest.fixture
def shared_pool(ceph_admin):
    """A pool of each test's own: usage starts at nothing."""
    yield from pool_with_team_namespaces(ceph_admin, "usage")


def test_trashed_images_and_their_snapshots_count_until_purged(teams, ceph_admin, client):
    StorageQuota.objects.filter(tenant=teams.a).update(max_images=5, max_provisioned_gib=1, max_snapshots=5)
    place = f"{teams.pool}/team-a"
    ceph_admin.create_image(f"{place}/live", "64M")
    ceph_admin.create_image(f"{place}/trashed", "128M")
    ceph_admin.create_snapshot(f"{place}/trashed@kept")
    ceph_admin.trash_image(f"{place}/trashed")

    rows = {row.label: row.used for row in tenant_usage_rows(actor=teams.members["viewer"], tenant=teams.a)}
    assert rows == {"Images": 2, "Provisioned": 192 * MIB, "Snapshots": 1}

    client.force_login(teams.members["viewer"])
    html = client.get(reverse("tenant-detail", args=["team-a"])).content.decode()
    assert "Images in the trash count, snapshots included, until they are purged." in html
