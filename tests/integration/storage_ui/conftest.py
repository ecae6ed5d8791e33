import uuid

import pytest

from storage.services.pools import pool_create, pool_delete, pool_list


@pytest.fixture
def pool(ceph_cluster, admin_user):
    """A fresh pool per test, so tests neither see nor break each other's images."""
    name = f"ui-{uuid.uuid4().hex[:8]}"
    pool_create(actor=admin_user, cluster=ceph_cluster, name=name, pg_num=8)
    yield name
    if name in {found.name for found in pool_list(actor=admin_user, cluster=ceph_cluster)}:
        pool_delete(actor=admin_user, cluster=ceph_cluster, name=name, confirm_name=name)
