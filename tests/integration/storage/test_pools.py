import json

import pytest

from dashboard.audit.models import AuditEvent
from dashboard.core.errors import Conflict, InvalidInput, NotFound
from storage.models import CephCluster
from storage.services.pools import pool_create, pool_delete, pool_get, pool_list, pool_set_quota
from storage.validation import GiB
from tests.helpers import unique_name

pytestmark = pytest.mark.integration


@pytest.fixture
def new_pool_name(ceph_admin):
    name = unique_name("berth-pool")
    yield name
    if name in ceph_admin.pools():
        ceph_admin.delete_pool(name)


def test_create_lists_quota_and_rbd_application(ceph_cluster, ceph_admin, admin_user, new_pool_name):
    created = pool_create(
        actor=admin_user, cluster=ceph_cluster, name=new_pool_name, pg_num=16, max_bytes=10 * GiB, max_objects=5000
    )

    assert created.applications == ["rbd"]
    assert (created.pg_num, created.quota_max_bytes, created.quota_max_objects) == (16, 10 * GiB, 5000)
    # From the OSD map rather than `osd pool get-quota`, which answers ENOENT until the mgr has
    # reported the new pool's statistics.
    detail = json.loads(ceph_admin.ceph("osd", "pool", "ls", "detail", "--format", "json"))
    quota = next(pool for pool in detail if pool["pool_name"] == new_pool_name)
    assert (quota["quota_max_bytes"], quota["quota_max_objects"]) == (10 * GiB, 5000)
    listed = {pool.name: pool for pool in pool_list(actor=admin_user, cluster=ceph_cluster)}
    assert listed[new_pool_name].id == created.id
    assert listed[new_pool_name].size >= 1 and listed[new_pool_name].percent_used >= 0
    assert AuditEvent.objects.filter(
        action="storage.pool.create", outcome="success", target__name=new_pool_name
    ).exists()


def test_quota_is_set_and_cleared(ceph_cluster, admin_user, new_pool_name):
    pool_create(actor=admin_user, cluster=ceph_cluster, name=new_pool_name, pg_num=8)
    assert (
        pool_set_quota(actor=admin_user, cluster=ceph_cluster, name=new_pool_name, max_bytes="1GiB").quota_max_bytes
        == GiB
    )
    cleared = pool_set_quota(actor=admin_user, cluster=ceph_cluster, name=new_pool_name, max_bytes=0)
    assert cleared.quota_max_bytes is None and cleared.quota_max_objects is None


def test_existing_pool_is_a_conflict(ceph_cluster, admin_user, storage_pool):
    with pytest.raises(Conflict) as caught:
        pool_create(actor=admin_user, cluster=ceph_cluster, name=storage_pool)
    assert caught.value.code == "pool_exists"


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"pg_num": 0}, "pg_num"),
        ({"pg_num": -4}, "pg_num"),
        ({"max_bytes": "lots"}, "max_bytes"),
        ({"name": "a b"}, "name"),
    ],
)
def test_bad_input_creates_nothing(ceph_cluster, ceph_admin, admin_user, new_pool_name, arguments, field):
    with pytest.raises(InvalidInput, match=f"^{field}:"):
        pool_create(actor=admin_user, cluster=ceph_cluster, **{"name": new_pool_name, **arguments})
    assert new_pool_name not in ceph_admin.pools()


def test_delete_needs_the_typed_name(ceph_cluster, ceph_admin, admin_user, new_pool_name):
    pool_create(actor=admin_user, cluster=ceph_cluster, name=new_pool_name, pg_num=8)
    with pytest.raises(InvalidInput) as caught:
        pool_delete(actor=admin_user, cluster=ceph_cluster, name=new_pool_name, confirm_name="something-else")
    assert caught.value.code == "confirmation_mismatch"
    assert new_pool_name in ceph_admin.pools()

    pool_delete(actor=admin_user, cluster=ceph_cluster, name=new_pool_name, confirm_name=new_pool_name)
    assert new_pool_name not in ceph_admin.pools()
    with pytest.raises(NotFound) as missing:
        pool_get(actor=admin_user, cluster=ceph_cluster, name=new_pool_name)
    assert missing.value.code == "pool_not_found"


def test_delete_refused_by_the_cluster_says_how_to_allow_it(ceph_cluster, ceph_admin, admin_user, new_pool_name):
    pool_create(actor=admin_user, cluster=ceph_cluster, name=new_pool_name, pg_num=8)
    ceph_admin.ceph("tell", "mon.*", "config", "set", "mon_allow_pool_delete", "false")
    try:
        with pytest.raises(Conflict) as caught:
            pool_delete(actor=admin_user, cluster=ceph_cluster, name=new_pool_name, confirm_name=new_pool_name)
    finally:
        ceph_admin.ceph("tell", "mon.*", "config", "set", "mon_allow_pool_delete", "true")
    assert caught.value.code == "pool_delete_disabled"
    assert "mon_allow_pool_delete" in caught.value.message
    assert new_pool_name in ceph_admin.pools()


def test_mon_host_and_key_file_style_works(db, ceph_dev_cluster, admin_user, storage_pool):
    cluster = CephCluster.objects.create(
        name="by-key",
        client_name=ceph_dev_cluster.client_name,
        mon_host=ceph_dev_cluster.mon_host,
        key_path=str(ceph_dev_cluster.client_key_file),
    )
    assert storage_pool in {pool.name for pool in pool_list(actor=admin_user, cluster=cluster)}
