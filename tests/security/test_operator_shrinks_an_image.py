"""Attack: a tenant operator destroys data by shrinking an image.

Deleting a snapshot needs the tenant's admin role, yet an operator could shrink an image — which
discards everything stored beyond the new size — by confirming the shrink. Losing data is an
admin's decision: shrinking needs the admin role, growing stays an operator's.
"""

import json
import uuid

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from dashboard.tenancy.models import Membership, Tenant
from storage.models import StorageBinding
from tests.fixtures.berth import TEST_PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tenant_image(ceph_admin, ceph_cluster):
    pool = f"shrink-{uuid.uuid4().hex[:8]}"
    ceph_admin.create_pool(pool)
    ceph_admin.create_namespace(f"{pool}/team-a")
    ceph_admin.create_image(f"{pool}/team-a/ledger", "64M")
    tenant = Tenant.objects.create(name="Team A", slug="team-a")
    StorageBinding.objects.create(tenant=tenant, cluster=ceph_cluster, pool=pool, namespace="team-a")
    yield pool, tenant
    ceph_admin.delete_pool(pool)


def _member(tenant, role: str) -> APIClient:
    user = get_user_model().objects.create_user(f"a-{role}", password=TEST_PASSWORD)
    Membership.objects.create(user=user, tenant=tenant, role=role)
    api = APIClient()
    assert api.post("/login/", {"username": user.username, "password": TEST_PASSWORD}).status_code == 302
    return api


def _size(ceph_admin, pool: str) -> int:
    return json.loads(ceph_admin.rbd("info", "--format", "json", f"{pool}/team-a/ledger"))["size"]


def test_an_operator_cannot_shrink_but_may_grow(ceph_admin, tenant_image):
    pool, tenant = tenant_image
    operator = _member(tenant, Membership.OPERATOR)
    url = f"/api/v1/storage/pools/{pool}/images/ledger/?namespace=team-a"

    refused = operator.patch(url, {"size": "16MiB", "allow_shrink": True}, format="json")
    assert (refused.status_code, refused.json().get("code")) == (403, "role_denied")
    assert _size(ceph_admin, pool) == 64 << 20

    assert operator.patch(url, {"size": "128MiB"}, format="json").status_code == 200
    shrunk = _member(tenant, Membership.ADMIN).patch(url, {"size": "16MiB", "allow_shrink": True}, format="json")
    assert shrunk.status_code == 200 and _size(ceph_admin, pool) == 16 << 20
