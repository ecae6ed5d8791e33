"""Issue 10, hole 4 (second part): `profile rbd` as a tenant key's monitor cap let the key's holder
blocklist other clients wholesale. The attack: tenant A's admin mints a key on the tenant page and
uses it to blocklist every client of a host (address with nonce 0, or a nonce that wraps to 0) or a
whole network (`osd blocklist range`), which cuts Berth, other tenants' workloads and the cluster's
own mgr off from the OSDs. Blocklisting one client instance (address and nonzero nonce) stays
possible: taking over the lock of a dead client needs it (see test_tenant_keys.py)."""

import errno
import json
import re

import pytest
import rados
from django.test import Client
from django.urls import reverse

from storage.models import StorageBinding
from storage.services import images
from tests.helpers import two_tenants, unique_name

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tenant_key(ceph_admin, storage_pool, ceph_cluster):
    """(entity, key) minted by tenant A's admin on the tenant page, for a namespace A owns."""
    namespace = unique_name("ns")
    ceph_admin.create_namespace(f"{storage_pool}/{namespace}")
    a, _, members, _ = two_tenants()
    binding = StorageBinding.objects.create(tenant=a, cluster=ceph_cluster, pool=storage_pool, namespace=namespace)
    browser = Client()
    browser.force_login(members["admin"])
    html = browser.post(reverse("tenant-key-create", args=[a.slug, binding.pk])).content.decode()
    entity = re.search(r"<dt>Ceph client</dt><dd><code>([^<]+)</code>", html).group(1)
    yield entity, re.search(r'data-testid="tenant-key">([^<]+)<', html).group(1)
    ceph_admin.mon("auth rm", entity=entity)


@pytest.fixture
def blocklist_restored(ceph_admin):
    """Whatever the attack blocklisted is lifted afterwards (monitor commands still work for a
    blocklisted host; only its I/O to the OSDs stops)."""
    yield
    for line in ceph_admin.ceph("osd", "blocklist", "ls").splitlines():
        entry = line.split()[0] if line.strip() else ""
        if entry.startswith("cidr:"):
            ceph_admin.ceph("osd", "blocklist", "range", "rm", entry.removeprefix("cidr:"))
        elif entry:
            ceph_admin.ceph("osd", "blocklist", "rm", entry)


@pytest.mark.parametrize(
    "command",
    [
        {"blocklistop": "add", "addr": "127.0.0.1:0/0"},
        {"blocklistop": "add", "addr": "127.0.0.1/00"},
        {"blocklistop": "add", "addr": "127.0.0.1:0/4294967296"},
        {"range": "range", "blocklistop": "add", "addr": "127.0.0.0/8"},
        {"range": "range", "blocklistop": "add", "addr": "127.0.0.0:0/24"},
    ],
    ids=["host", "host-leading-zeros", "host-nonce-wrapping-to-0", "network", "network-as-address"],
)
def test_a_tenant_key_cannot_cut_a_host_or_network_off_the_cluster(
    command, tenant_key, blocklist_restored, ceph_dev_cluster, ceph_cluster, admin_user, storage_pool
):
    entity, key = tenant_key
    attacker = rados.Rados(
        conffile=None,
        name=entity,
        conf={"mon_host": ceph_dev_cluster.mon_host, "key": key, "client_mount_timeout": "5"},
    )
    attacker.connect()
    try:
        code, _, status = attacker.mon_command(json.dumps({"prefix": "osd blocklist", **command}), b"")
    finally:
        attacker.shutdown()

    assert (code, status) == (-errno.EACCES, "access denied")
    # Berth, on the same host, still reaches the OSDs.
    images.image_create(
        actor=admin_user,
        cluster=ceph_cluster,
        pool=storage_pool,
        namespace="",
        name=unique_name("alive"),
        size=64 << 20,
    )
