"""Two tenants sharing one pool of the real dev cluster, each owning an RBD namespace of it, with
a member of each role in tenant A and an admin of tenant B (the outsider to tenant A)."""

import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from dashboard.tenancy.models import Tenant
from storage.models import StorageBinding, StorageQuota
from tests.helpers import two_tenants, unique_name


def pool_with_team_namespaces(ceph_admin, prefix: str = "tenancy") -> Iterator[str]:
    """A new pool with namespaces team-a and team-b, removed afterwards."""
    name = unique_name(prefix)
    ceph_admin.create_pool(name)
    for namespace in ("team-a", "team-b"):
        ceph_admin.create_namespace(f"{name}/{namespace}")
    yield name
    ceph_admin.delete_pool(name)


@pytest.fixture(scope="module")
def shared_pool(ceph_admin) -> Iterator[str]:
    yield from pool_with_team_namespaces(ceph_admin)


@dataclass
class Teams:
    pool: str
    a: Tenant
    b: Tenant
    binding_a: StorageBinding
    binding_b: StorageBinding
    members: dict  # role -> user of tenant A
    outsider: object  # admin of tenant B only


@pytest.fixture
def teams(db, ceph_cluster, shared_pool) -> Teams:
    a, b, members, outsider = two_tenants()
    binding_a = StorageBinding.objects.create(tenant=a, cluster=ceph_cluster, pool=shared_pool, namespace="team-a")
    binding_b = StorageBinding.objects.create(tenant=b, cluster=ceph_cluster, pool=shared_pool, namespace="team-b")
    StorageQuota.objects.create(tenant=a)
    return Teams(shared_pool, a, b, binding_a, binding_b, members, outsider)


@pytest.fixture
def ceph_out_of_reach(ceph_cluster, ceph_dev_cluster):
    """Makes the cluster's record point at a monitor address where nothing answers; `restore()` undoes it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    reachable = {name: getattr(ceph_cluster, name) for name in ("conf_path", "keyring_path", "mon_host", "key_path")}

    def cut_off() -> None:
        ceph_cluster.conf_path = ceph_cluster.keyring_path = ""
        ceph_cluster.mon_host, ceph_cluster.key_path = f"v2:127.0.0.1:{port}", str(ceph_dev_cluster.client_key_file)
        ceph_cluster.save()

    def restore() -> None:
        for name, value in reachable.items():
            setattr(ceph_cluster, name, value)
        ceph_cluster.save()

    cut_off()
    yield restore
    restore()
