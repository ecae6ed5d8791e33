"""A tenant's own Ceph key works in its namespace and nowhere else, on the real cluster."""

import errno
import json
import subprocess
import uuid

import pytest
import rados
import rbd

from dashboard.audit.models import AuditEvent
from dashboard.core.errors import Conflict, PermissionDenied
from storage.models import CephCluster, StorageBinding
from storage.services.tenant_keys import TENANT_MON_CAP, tenant_key_create, tenant_key_exists, tenant_key_revoke

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def rbd_as(endpoints, entity: str, key: str, *args: str) -> subprocess.CompletedProcess:
    # --key on the command line is fine for a throwaway test key; the conf only supplies mon_host.
    return subprocess.run(
        ["rbd", "-c", str(endpoints.conf), "-n", entity, "--key", key, "--keyring", "/dev/null", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_tenant_key_is_confined_to_its_namespace(teams, ceph_dev_cluster, ceph_admin):
    entity, key = tenant_key_create(actor=teams.members["admin"], binding=teams.binding_a)
    try:
        own = rbd_as(ceph_dev_cluster, entity, key, "create", "--size", "64M", f"{teams.pool}/team-a/by-key")
        assert own.returncode == 0, own.stderr
        assert "by-key" in ceph_admin.rbd("ls", f"{teams.pool}/team-a")

        other = rbd_as(ceph_dev_cluster, entity, key, "create", "--size", "64M", f"{teams.pool}/team-b/by-key")
        assert other.returncode != 0
        assert "Operation not permitted" in other.stderr or "permission" in other.stderr.lower()
        assert "by-key" not in ceph_admin.rbd("ls", f"{teams.pool}/team-b")
        default = rbd_as(ceph_dev_cluster, entity, key, "create", "--size", "64M", f"{teams.pool}/by-key")
        assert default.returncode != 0
    finally:
        tenant_key_revoke(actor=teams.members["admin"], binding=teams.binding_a)

    assert not tenant_key_exists(actor=teams.members["admin"], binding=teams.binding_a)
    revoked = rbd_as(ceph_dev_cluster, entity, key, "ls", f"{teams.pool}/team-a")
    assert revoked.returncode != 0
    created = AuditEvent.objects.get(action="storage.tenant_key.create")
    assert created.tenant_slug == "team-a" and created.outcome == "success"
    assert key not in created.target.__repr__() + created.parameters.__repr__() + created.error


def test_a_key_is_shown_once(teams):
    tenant_key_create(actor=teams.members["admin"], binding=teams.binding_a)
    try:
        with pytest.raises(Conflict) as refused:
            tenant_key_create(actor=teams.members["admin"], binding=teams.binding_a)
        assert refused.value.code == "tenant_key_exists"
    finally:
        tenant_key_revoke(actor=teams.members["admin"], binding=teams.binding_a)


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_tenant_admins_create_keys(teams, role):
    with pytest.raises(PermissionDenied) as refused:
        tenant_key_create(actor=teams.members[role], binding=teams.binding_a)
    assert refused.value.code == "role_denied"
    assert AuditEvent.objects.get(action="storage.tenant_key.create").outcome == "denied"


# --- The mon cap: `profile rbd`, because taking over a dead client's lock needs blocklisting ---------

TIMEOUTS = {"client_mount_timeout": "5", "rados_mon_op_timeout": "5", "rados_osd_op_timeout": "5"}


def connected_as(endpoints, entity: str, key: str) -> rados.Rados:
    handle = rados.Rados(conffile=None, name=entity, conf={"mon_host": endpoints.mon_host, "key": key, **TIMEOUTS})
    handle.connect()
    return handle


def lock_break_as(endpoints, entity: str, key: str, pool: str, image: str) -> str:
    """Break the exclusive lock of team-a's `image` as `entity`: "broken", or the errno of the refusal."""
    handle = connected_as(endpoints, entity, key)
    try:
        with handle.open_ioctx(pool) as ioctx:
            ioctx.set_namespace("team-a")
            with rbd.Image(ioctx, image) as taken:
                [owner] = taken.lock_get_owners()
                try:
                    taken.lock_break(rbd.RBD_LOCK_MODE_EXCLUSIVE, owner["owner"])
                except rbd.Error as refused:
                    return errno.errorcode.get(refused.errno, str(refused))
                return "broken"
    finally:
        handle.shutdown()


def test_taking_over_the_lock_of_a_vanished_client_needs_the_blocklist_cap(teams, ceph_dev_cluster, ceph_admin):
    """Why a tenant key may still blocklist a client instance: with `mon 'allow r'` a client cannot break the
    exclusive lock an unresponsive client holds (breaking it blocklists the holder first), which is how
    ceph-csi's next node takes over a volume whose previous node died. (What it may not blocklist:
    tests/security/test_tenant_key_blocklist.py.)"""
    entity, key = tenant_key_create(actor=teams.members["admin"], binding=teams.binding_a)
    narrow = f"client.berth-tenant-narrow-{uuid.uuid4().hex[:8]}"
    cap = f"profile rbd pool={teams.pool} namespace=team-a"
    ceph_admin.mon("auth get-or-create", entity=narrow, caps=["mon", "allow r", "osd", cap, "mgr", cap])
    narrow_key = ceph_admin.ceph("auth", "print-key", narrow).strip()
    image = f"locked-{uuid.uuid4().hex[:8]}"
    ceph_admin.rbd(
        "create", "--size", "64M", "--image-feature", "layering,exclusive-lock", f"{teams.pool}/team-a/{image}"
    )
    holder = connected_as(ceph_dev_cluster, entity, key)
    holder_address = holder.get_addrs()
    try:
        with holder.open_ioctx(teams.pool) as ioctx:
            ioctx.set_namespace("team-a")
            # Closed before the handle shuts down: librbd aborts the process for an image left open.
            with rbd.Image(ioctx, image) as held:
                held.lock_acquire(rbd.RBD_LOCK_MODE_EXCLUSIVE)
                narrowed = lock_break_as(ceph_dev_cluster, narrow, narrow_key, teams.pool, image)
                kept = lock_break_as(ceph_dev_cluster, entity, key, teams.pool, image)
                blocklist = ceph_admin.ceph("osd", "blocklist", "ls")
    finally:
        holder.shutdown()
        tenant_key_revoke(actor=teams.members["admin"], binding=teams.binding_a)
        ceph_admin.mon("auth rm", entity=narrow)
        ceph_admin.ceph("osd", "blocklist", "rm", holder_address)
    assert (narrowed, kept) == ("EACCES", "broken")
    assert holder_address in blocklist


def test_a_berth_client_with_the_caps_of_an_earlier_version_is_told_what_to_update(teams, ceph_admin, tmp_path):
    """Earlier versions pinned tenant keys' mon cap to `profile rbd` in Berth's own cap: minting is refused
    by Ceph, and the refusal says what to change instead of naming Berth's caps in general."""
    [berth] = json.loads(ceph_admin.ceph("auth", "get", "client.berth", "--format", "json"))
    earlier_mon_cap = berth["caps"]["mon"].replace(f'caps_mon="{TENANT_MON_CAP}"', 'caps_mon="profile rbd"')
    assert earlier_mon_cap != berth["caps"]["mon"]
    client = f"client.berth-earlier-{uuid.uuid4().hex[:6]}"
    keyring = tmp_path / "keyring"
    keyring.write_text(
        ceph_admin.ceph(
            "auth", "get-or-create", client, "mon", earlier_mon_cap, "osd", "profile rbd", "mgr", "profile rbd"
        )
    )
    cluster = CephCluster.objects.create(
        name="earlier", client_name=client, conf_path=teams.binding_a.cluster.conf_path, keyring_path=str(keyring)
    )
    binding = StorageBinding.objects.create(tenant=teams.a, cluster=cluster, pool=teams.pool, namespace="team-a")
    try:
        with pytest.raises(PermissionDenied) as refused:
            tenant_key_create(actor=teams.members["admin"], binding=binding)
    finally:
        ceph_admin.mon("auth rm", entity=client)
    assert refused.value.code == "tenant_key_caps_refused" and "docs/tenant-keys.md" in refused.value.message
