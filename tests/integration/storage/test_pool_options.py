"""Compression and PG autoscale mode of a pool, at creation and afterwards; read back with the
admin CLI."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from dashboard.audit.models import AuditEvent
from dashboard.core.errors import InvalidInput, PermissionDenied
from dashboard.tenancy.models import Membership, Tenant
from storage.models import StorageBinding
from storage.services.pools import pool_create, pool_delete, pool_set_options
from tests.helpers import api_client_as, unique_name

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def cli_options(ceph_admin, pool: str) -> tuple[str, str]:
    [detail] = [p for p in json.loads(ceph_admin.ceph("osd", "pool", "ls", "detail", "--format", "json"))
                if p["pool_name"] == pool]  # fmt: skip
    return (detail.get("options") or {}).get("compression_mode", "none"), detail["pg_autoscale_mode"]


@pytest.fixture
def new_pool(ceph_cluster, admin_user, ceph_admin):
    name = unique_name("opts")
    yield name
    if name in ceph_admin.pools():
        pool_delete(actor=admin_user, cluster=ceph_cluster, name=name, confirm_name=name)


def test_options_at_creation_and_afterwards(ceph_cluster, ceph_admin, admin_user, new_pool):
    created = pool_create(
        actor=admin_user,
        cluster=ceph_cluster,
        name=new_pool,
        pg_num=8,
        compression_mode="aggressive",
        pg_autoscale_mode="warn",
    )
    assert (created.compression_mode, created.pg_autoscale_mode) == ("aggressive", "warn")
    assert cli_options(ceph_admin, new_pool) == ("aggressive", "warn")
    changed = pool_set_options(actor=admin_user, cluster=ceph_cluster, name=new_pool, pg_autoscale_mode="off")
    assert (changed.compression_mode, changed.pg_autoscale_mode) == ("aggressive", "off")
    assert cli_options(ceph_admin, new_pool) == ("aggressive", "off")
    assert AuditEvent.objects.get(action="storage.pool.set_options").parameters == {"pg_autoscale_mode": "off"}
    with pytest.raises(InvalidInput) as bad:
        pool_set_options(actor=admin_user, cluster=ceph_cluster, name=new_pool, compression_mode="zstd")
    assert bad.value.code == "invalid_compression_mode"


def test_a_tenant_admin_of_the_whole_pool_may_not_change_its_options(ceph_cluster, ceph_admin, admin_user, new_pool):
    pool_create(actor=admin_user, cluster=ceph_cluster, name=new_pool, pg_num=8)
    tenant = Tenant.objects.create(name="Opts", slug=new_pool)
    StorageBinding.objects.create(tenant=tenant, cluster=ceph_cluster, pool=new_pool, namespace="")
    user = get_user_model().objects.create_user(f"{new_pool}-admin")
    Membership.objects.create(user=user, tenant=tenant, role="admin")
    before = cli_options(ceph_admin, new_pool)
    with pytest.raises(PermissionDenied):
        pool_set_options(actor=user, cluster=ceph_cluster, name=new_pool, compression_mode="force")
    assert cli_options(ceph_admin, new_pool) == before


def test_options_api_and_pages(ceph_cluster, ceph_admin, admin_user, admin_client, new_pool):
    created = admin_client.post(
        reverse("storage:pool-create"),
        {"name": new_pool, "pg_num": "8", "max_bytes": "", "max_objects": "", "compression_mode": "passive"},
    )
    assert created.status_code == 302
    assert cli_options(ceph_admin, new_pool)[0] == "passive"
    api = api_client_as(admin_user)
    answer = api.patch(
        reverse("api:storage-pool-options", kwargs={"pool": new_pool}), {"compression_mode": "force"}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["compression_mode"] == "force"
    assert (
        api.patch(
            reverse("api:storage-pool-options", kwargs={"pool": new_pool}),
            {"pg_autoscale_mode": "maybe"},
            format="json",
        ).status_code
        == 400
    )
    saved = admin_client.post(
        reverse("storage:pool-options", args=[new_pool]), {"compression_mode": "none", "pg_autoscale_mode": "on"}
    )
    assert saved.status_code == 302
    assert cli_options(ceph_admin, new_pool) == ("none", "on")
    detail = admin_client.get(reverse("storage:pool-detail", args=[new_pool])).content.decode()
    assert 'data-testid="pool-compression">none<' in detail
