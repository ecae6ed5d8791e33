"""A tenant's own Ceph key works in its namespace and nowhere else, on the real cluster."""

import subprocess

import pytest

from dashboard.audit.models import AuditEvent
from dashboard.core.errors import Conflict, PermissionDenied
from storage.services.tenant_keys import tenant_key_create, tenant_key_exists, tenant_key_revoke

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
