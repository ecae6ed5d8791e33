"""Attack: an auditor — a staff user who may read the audit log — acting as a platform admin.

Django lets only staff into the admin site, where the audit log lives, and Berth used to treat every
active staff user as a platform admin: a staff user whose only permission was `view_auditevent`
created a pool over the API (201) and read another tenant's images (200). An auditor must read and
export audit events and every tenant's Activity, and change nothing anywhere: not through the API,
not through the UI, not through the admin, even holding Django permissions granted by mistake.
"""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.test import APIClient

from dashboard.audit.services import record_event
from dashboard.tenancy.models import Membership, Tenant
from storage.models import CephCluster, StorageBinding
from tests.fixtures.berth import TEST_PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tenant_pool(ceph_admin, ceph_cluster):
    """Tenant A owning namespace team-a of a fresh pool, with one image in it."""
    pool = f"auditor-{uuid.uuid4().hex[:8]}"
    ceph_admin.create_pool(pool)
    ceph_admin.create_namespace(f"{pool}/team-a")
    ceph_admin.create_image(f"{pool}/team-a/payroll-db", "64M")
    tenant = Tenant.objects.create(name="Team A", slug="team-a")
    StorageBinding.objects.create(tenant=tenant, cluster=ceph_cluster, pool=pool, namespace="team-a")
    yield pool
    ceph_admin.delete_pool(pool)


def _signed_in(client, user):
    """Signed in through the login page, as the attacker would."""
    response = client.post("/login/", {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


@pytest.fixture
def view_auditevent_staff(db):
    """The issue's auditor: staff, with no permission but `audit.view_auditevent`."""
    user = get_user_model().objects.create_user("log-reader", password=TEST_PASSWORD, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    return user


@pytest.fixture
def auditor(admin_client, view_auditevent_staff):
    """A superuser grants the auditor role in the admin; the user also holds every Django permission,
    as a careless grant (or a group) would give them."""
    users = get_user_model().objects
    target = users.create_user("auditor", password=TEST_PASSWORD)
    granted = admin_client.post("/admin/tenancy/platformrole/add/", {"user": target.pk, "role": "auditor"})
    assert granted.status_code == 302, granted.content.decode()[:2000]
    target.user_permissions.set(Permission.objects.all())
    return users.get(pk=target.pk)


def test_staff_with_only_view_auditevent_cannot_create_a_pool(ceph_cluster, ceph_admin, view_auditevent_staff):
    name = f"stolen-{uuid.uuid4().hex[:8]}"
    api = _signed_in(APIClient(), view_auditevent_staff)
    try:
        response = api.post("/api/v1/storage/pools/", {"name": name, "pg_num": 8}, format="json")
        assert (response.status_code, response.json().get("code")) == (403, "role_denied")
        assert name not in ceph_admin.pools()
    finally:
        if name in ceph_admin.pools():
            ceph_admin.delete_pool(name)


def test_staff_with_only_view_auditevent_cannot_read_a_tenants_images(tenant_pool, view_auditevent_staff):
    api = _signed_in(APIClient(), view_auditevent_staff)
    response = api.get(f"/api/v1/storage/pools/{tenant_pool}/images/", {"namespace": "team-a"})
    assert (response.status_code, response.json().get("code")) == (404, "tenant_denied")
    assert "payroll-db" not in response.content.decode()


def test_an_auditor_reads_and_exports_the_audit_log_and_every_tenants_activity(auditor, tenant_pool):
    Tenant.objects.create(name="Team B", slug="team-b")
    record_event(
        actor=None,
        action="storage.image.create",
        target={},
        parameters={},
        outcome="success",
        tenant=Tenant.objects.get(slug="team-b"),
    )
    client = _signed_in(Client(), auditor)
    assert client.get("/admin/audit/auditevent/").status_code == 200
    export = client.get("/admin/audit/auditevent/export.jsonl")
    assert export.status_code == 200 and b"storage.image.create" in b"".join(export.streaming_content)
    activity = client.get("/activity/")
    assert activity.status_code == 200 and "team-b" in activity.content.decode()


def test_an_auditor_sees_only_the_audit_log_in_the_admin(auditor):
    client = _signed_in(Client(), auditor)
    index = client.get("/admin/").content.decode()
    assert "/admin/audit/auditevent/" in index
    for other in (
        "/admin/auth/user/",
        "/admin/tenancy/tenant/",
        "/admin/storage/cephcluster/",
        "/admin/tenancy/platformrole/",
        "/admin/tenancy/apitoken/",
    ):
        assert other not in index
        assert client.get(other).status_code == 403, other


def test_an_auditor_changes_nothing_in_the_admin(auditor):
    cluster = CephCluster.objects.create(
        name="east", client_name="client.berth", conf_path="/etc/ceph/ceph.conf", keyring_path="/etc/ceph/k"
    )
    client = _signed_in(Client(), auditor)
    attempts = {
        "make themselves superuser": client.post(
            f"/admin/auth/user/{auditor.pk}/change/",
            {
                "username": "auditor",
                "is_active": "on",
                "is_staff": "on",
                "is_superuser": "on",
                "date_joined_0": "2026-01-01",
                "date_joined_1": "00:00:00",
            },
        ),
        "add a tenant": client.post("/admin/tenancy/tenant/add/", {"name": "Shadow", "slug": "shadow"}),
        "delete a cluster": client.post(f"/admin/storage/cephcluster/{cluster.pk}/delete/", {"post": "yes"}),
        "grant themselves platform admin": client.post(
            f"/admin/tenancy/platformrole/{auditor.platform_role.pk}/change/",
            {"user": auditor.pk, "role": "platform_admin"},
        ),
    }
    assert {what: response.status_code for what, response in attempts.items()} == dict.fromkeys(attempts, 403)
    auditor.refresh_from_db()
    assert not auditor.is_superuser and auditor.platform_role.role == "auditor"
    assert not Tenant.objects.filter(slug="shadow").exists()
    assert CephCluster.objects.filter(pk=cluster.pk).exists()


def test_an_auditor_who_is_a_tenant_operator_changes_nothing_there(ceph_admin, tenant_pool, auditor):
    Membership.objects.create(user=auditor, tenant=Tenant.objects.get(slug="team-a"), role=Membership.OPERATOR)
    api = _signed_in(APIClient(), auditor)
    assert api.get(f"/api/v1/storage/pools/{tenant_pool}/images/", {"namespace": "team-a"}).status_code == 200
    created = api.post(
        f"/api/v1/storage/pools/{tenant_pool}/images/?namespace=team-a",
        {"name": "planted", "size": "16MiB"},
        format="json",
    )
    assert (created.status_code, created.json()["code"]) == (403, "role_denied")
    assert "planted" not in ceph_admin.rbd("ls", f"{tenant_pool}/team-a").split()


def test_only_a_superuser_grants_platform_roles(view_auditevent_staff):
    """A staff user holding every Django permission (as an old platform admin may) still cannot make
    anyone a platform admin: the role is a superuser's to grant."""
    view_auditevent_staff.user_permissions.set(Permission.objects.all())
    client = _signed_in(Client(), view_auditevent_staff)
    response = client.post(
        "/admin/tenancy/platformrole/add/", {"user": view_auditevent_staff.pk, "role": "platform_admin"}
    )
    assert response.status_code == 403
