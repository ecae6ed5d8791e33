"""Which limits a request is checked against, and what a refusal says."""

import pytest

from dashboard.tenancy.models import Tenant
from dashboard.tenancy.services import quota_error
from storage.models import StorageQuota
from storage.services.tenancy import GIB, StorageRequest, storage_limit_checks
from storage.services.tenant_usage import StorageUsage

pytestmark = pytest.mark.unit

TENANT = Tenant(name="Team A", slug="team-a")
QUOTA = StorageQuota(tenant=TENANT, max_images=10, max_provisioned_gib=100, max_image_gib=40, max_snapshots=5)


def over(usage: StorageUsage, request: StorageRequest, quota: StorageQuota = QUOTA) -> dict[str, int]:
    return {check.name: check.excess for check in storage_limit_checks(quota, usage, request) if check.excess}


@pytest.mark.parametrize(
    "usage, request_, exceeded",
    [
        (
            StorageUsage(9, 50 * GIB, 0),
            StorageRequest(images=1, provisioned_bytes=10 * GIB, largest_image_bytes=10 * GIB),
            {},
        ),
        (
            StorageUsage(10, 50 * GIB, 0),
            StorageRequest(images=1, provisioned_bytes=GIB, largest_image_bytes=GIB),
            {"max_images": 1},
        ),
        (
            StorageUsage(0, 80 * GIB, 0),
            StorageRequest(images=1, provisioned_bytes=30 * GIB, largest_image_bytes=30 * GIB),
            {"max_provisioned_gib": 10 * GIB},
        ),
        (
            StorageUsage(0, 0, 0),
            StorageRequest(images=1, provisioned_bytes=41 * GIB, largest_image_bytes=41 * GIB),
            {"max_image_gib": GIB},
        ),
        (StorageUsage(0, 0, 5), StorageRequest(snapshots=1), {"max_snapshots": 1}),
        # Exactly at the limit fits.
        (StorageUsage(0, 60 * GIB, 0), StorageRequest(provisioned_bytes=40 * GIB, largest_image_bytes=40 * GIB), {}),
    ],
)
def test_each_limit(usage, request_, exceeded):
    assert over(usage, request_) == exceeded


def test_limits_not_increased_are_not_checked_so_an_over_quota_tenant_can_shrink_and_delete():
    far_over = StorageUsage(images=50, provisioned_bytes=1000 * GIB, snapshots=50)
    assert storage_limit_checks(QUOTA, far_over, StorageRequest()) == []
    assert storage_limit_checks(QUOTA, far_over, StorageRequest(images=-1, provisioned_bytes=-GIB)) == []


def test_empty_limits_are_unlimited():
    unlimited = StorageQuota(tenant=TENANT)
    huge = StorageRequest(images=10**6, provisioned_bytes=10**18, largest_image_bytes=10**18, snapshots=10**6)
    assert over(StorageUsage(10**6, 10**18, 10**6), huge, unlimited) == {}


def test_a_refusal_names_the_limit_usage_maximum_and_excess():
    (check,) = [
        c
        for c in storage_limit_checks(QUOTA, StorageUsage(0, 80 * GIB, 0), StorageRequest(provisioned_bytes=30 * GIB))
        if c.excess
    ]
    error = quota_error(TENANT, check)
    assert error.code == "quota_exceeded" and error.http_status == 409
    assert error.extra == {
        "limit": "max_provisioned_gib",
        "used": 80 * GIB,
        "requested": 30 * GIB,
        "maximum": 100 * GIB,
        "excess": 10 * GIB,
    }
    assert "provisioned storage" in error.message
    assert "80 GiB in use" in error.message and "limit 100 GiB" in error.message and "10 GiB over" in error.message
