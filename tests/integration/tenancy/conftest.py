"""Two tenants sharing one pool of the real dev cluster, each owning an RBD namespace of it, with
a member of each role in tenant A and an admin of tenant B (the outsider to tenant A)."""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model

from dashboard.models import Membership, StorageBinding, StorageQuota, Tenant
from tests.integration.storage.conftest import AdminCli, unique_name, wait_for_task  # noqa: F401

ROLES = ("viewer", "operator", "admin")


@pytest.fixture(scope="session")
def tenancy_admin_cli(ceph_dev_cluster) -> AdminCli:
    return AdminCli(ceph_dev_cluster)


@pytest.fixture(scope="module")
def shared_pool(tenancy_admin_cli) -> str:
    name = unique_name("tenancy")
    tenancy_admin_cli.create_pool(name)
    for namespace in ("team-a", "team-b"):
        tenancy_admin_cli.rbd("namespace", "create", f"{name}/{namespace}")
    yield name
    tenancy_admin_cli.delete_pool(name)


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
    users = get_user_model().objects
    a = Tenant.objects.create(name="Team A", slug="team-a")
    b = Tenant.objects.create(name="Team B", slug="team-b")
    binding_a = StorageBinding.objects.create(tenant=a, cluster=ceph_cluster, pool=shared_pool, namespace="team-a")
    binding_b = StorageBinding.objects.create(tenant=b, cluster=ceph_cluster, pool=shared_pool, namespace="team-b")
    members = {}
    for role in ROLES:
        members[role] = users.create_user(f"a-{role}", password="pw-not-used-0")
        Membership.objects.create(user=members[role], tenant=a, role=role)
    outsider = users.create_user("b-admin", password="pw-not-used-0")
    Membership.objects.create(user=outsider, tenant=b, role="admin")
    StorageQuota.objects.create(tenant=a)
    return Teams(shared_pool, a, b, binding_a, binding_b, members, outsider)
