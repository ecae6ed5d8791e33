"""Concurrent creates that each fit the quota alone never exceed it together (PostgreSQL row lock,
real Ceph cluster)."""

import json
import threading
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from dashboard.core.errors import BerthError
from dashboard.tenancy.models import Membership, Tenant
from storage.models import StorageBinding, StorageQuota
from storage.services import images

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

REQUESTS = 24
LIMIT_GIB = 10
GIB = 1 << 30


@pytest.fixture
def tenant_pool(ceph_admin):
    """A pool with namespace team-a."""
    pool = f"quota-{uuid.uuid4().hex[:8]}"
    ceph_admin.create_pool(pool)
    ceph_admin.create_namespace(f"{pool}/team-a")
    yield pool
    ceph_admin.delete_pool(pool)


def test_concurrent_creates_never_exceed_the_quota(ceph_cluster, ceph_admin, tenant_pool):
    pool = tenant_pool
    tenant = Tenant.objects.create(name="Team A", slug="team-a")
    StorageBinding.objects.create(tenant=tenant, cluster=ceph_cluster, pool=pool, namespace="team-a")
    StorageQuota.objects.create(tenant=tenant, max_provisioned_gib=LIMIT_GIB)
    operator = get_user_model().objects.create_user("a-operator")
    Membership.objects.create(user=operator, tenant=tenant, role="operator")

    start = threading.Barrier(REQUESTS)
    created, refused, unexpected = [], [], []

    def create(index: int):
        try:
            start.wait()
            image = images.image_create(
                actor=operator, cluster=ceph_cluster, pool=pool, namespace="team-a", name=f"img-{index}", size=GIB
            )
            created.append(image.name)
        except BerthError as error:
            refused.append(error)
        except BaseException as error:
            unexpected.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(index,)) for index in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)

    assert not unexpected, unexpected
    assert len(created) == LIMIT_GIB, (created, [error.message for error in refused])
    assert len(refused) == REQUESTS - LIMIT_GIB
    for error in refused:
        assert error.code == "quota_exceeded" and error.http_status == 409
        assert error.extra["limit"] == "max_provisioned_gib"
        assert error.extra["used"] == LIMIT_GIB * GIB and error.extra["excess"] == GIB
    in_ceph = ceph_admin.rbd("ls", "-l", "--format", "json", f"{pool}/team-a")
    sizes = [entry["size"] for entry in json.loads(in_ceph)]
    assert len(sizes) == LIMIT_GIB and sum(sizes) == LIMIT_GIB * GIB
