"""Every role × operation, through the service layer that the API, the UI and the admin share.

A member below the operation's role gets 403 role_denied; a member of another tenant gets the 404
a missing place gets; both are recorded as denied. Platform admins may do everything; auditors act
as viewers whatever their membership says, and Django staff status alone gives nothing. The table
is docs/roles.md.
"""

import uuid

import pytest
from django.contrib.auth import get_user_model

from dashboard.audit.models import AuditEvent
from dashboard.core.errors import NotFound, PermissionDenied
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Membership, PlatformRole
from storage.services import features, images, metadata, namespaces, pools, qos, snapshots, trash, usage
from tests.helpers import RANK, wait_for_task

pytestmark = [pytest.mark.integration, pytest.mark.long, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def image(teams, ceph_admin) -> str:
    """An image in tenant A's namespace with a snapshot s0 and a protected snapshot s1."""
    name = f"img-{uuid.uuid4().hex[:8]}"
    spec = f"{teams.pool}/team-a/{name}"
    ceph_admin.create_image(spec, "64M", snapshots=("s0", "s1"), protected=("s1",), metadata={"owner": "team-a"})
    return name


def where(teams, cluster):
    return {"cluster": cluster, "pool": teams.pool, "namespace": "team-a"}


def fresh() -> str:
    return f"new-{uuid.uuid4().hex[:8]}"


# (name, minimal role, audited action or None for reads, call)
OPERATIONS = [
    ("image_list", "viewer", None, lambda a, t, c, i: images.image_list(actor=a, **where(t, c))),
    ("image_get", "viewer", None, lambda a, t, c, i: images.image_get(actor=a, **where(t, c), name=i)),
    ("snapshot_list", "viewer", None, lambda a, t, c, i: snapshots.snapshot_list(actor=a, **where(t, c), image=i)),
    ("trash_list", "viewer", None, lambda a, t, c, i: trash.trash_list(actor=a, **where(t, c))),
    ("namespace_list", "viewer", None, lambda a, t, c, i: namespaces.namespace_list(actor=a, cluster=c, pool=t.pool)),
    (
        "image_create",
        "operator",
        "storage.image.create",
        lambda a, t, c, i: images.image_create(actor=a, **where(t, c), name=fresh(), size="64MiB"),
    ),
    (
        "image_resize",
        "operator",
        "storage.image.resize",
        lambda a, t, c, i: images.image_resize(actor=a, **where(t, c), name=i, size="128MiB"),
    ),
    (
        "image_shrink",
        "admin",
        "storage.image.resize",
        lambda a, t, c, i: images.image_resize(actor=a, **where(t, c), name=i, size="32MiB", allow_shrink=True),
    ),
    (
        "image_rename",
        "operator",
        "storage.image.rename",
        lambda a, t, c, i: images.image_rename(actor=a, **where(t, c), name=i, new_name=fresh()),
    ),
    (
        "image_copy",
        "operator",
        "storage.image.copy",
        lambda a, t, c, i: wait_for_task(
            images.image_copy(
                actor=a, **where(t, c), name=i, dest_pool=t.pool, dest_namespace="team-a", dest_name=fresh()
            )
        ),
    ),
    (
        "snapshot_create",
        "operator",
        "storage.snapshot.create",
        lambda a, t, c, i: snapshots.snapshot_create(actor=a, **where(t, c), image=i, snapshot="s2"),
    ),
    (
        "snapshot_unprotect",
        "operator",
        "storage.snapshot.unprotect",
        lambda a, t, c, i: snapshots.snapshot_unprotect(actor=a, **where(t, c), image=i, snapshot="s1"),
    ),
    (
        "image_clone",
        "operator",
        "storage.image.clone",
        lambda a, t, c, i: snapshots.image_clone(
            actor=a, **where(t, c), image=i, snapshot="s1", dest_pool=t.pool, dest_namespace="team-a", dest_name=fresh()
        ),
    ),
    (
        "snapshot_rename",
        "operator",
        "storage.snapshot.rename",
        lambda a, t, c, i: snapshots.snapshot_rename(actor=a, **where(t, c), image=i, snapshot="s0", new_name="r0"),
    ),
    (
        "image_copy_from_snapshot",
        "operator",
        "storage.image.copy",
        lambda a, t, c, i: wait_for_task(
            images.image_copy(
                actor=a,
                **where(t, c),
                name=i,
                snapshot="s0",
                dest_pool=t.pool,
                dest_namespace="team-a",
                dest_name=fresh(),
            )
        ),
    ),
    (
        "image_delete",
        "admin",
        "storage.image.delete",
        lambda a, t, c, i: images.image_delete(actor=a, **where(t, c), name=i),
    ),
    (
        "trash_purge",
        "admin",
        "storage.image.trash_purge",
        lambda a, t, c, i: wait_for_task(trash.trash_purge(actor=a, **where(t, c))),
    ),
    (
        "snapshot_delete",
        "admin",
        "storage.snapshot.delete",
        lambda a, t, c, i: snapshots.snapshot_delete(actor=a, **where(t, c), image=i, snapshot="s0"),
    ),
    (
        "snapshot_rollback",
        "admin",
        "storage.snapshot.rollback",
        lambda a, t, c, i: snapshots.snapshot_rollback(actor=a, **where(t, c), image=i, snapshot="s0"),
    ),
    ("image_usage", "viewer", None, lambda a, t, c, i: usage.image_usage(actor=a, **where(t, c), name=i)),
    ("image_qos_get", "viewer", None, lambda a, t, c, i: qos.image_qos_get(actor=a, **where(t, c), name=i)),
    (
        "image_qos_set",
        "operator",
        "storage.image.set_qos",
        lambda a, t, c, i: qos.image_qos_set(actor=a, **where(t, c), name=i, changes={"rbd_qos_iops_limit": 500}),
    ),
    (
        "image_features_update",
        "operator",
        "storage.image.update_features",
        lambda a, t, c, i: features.image_features_update(
            actor=a, **where(t, c), name=i, features={"object-map": False, "fast-diff": False}
        ),
    ),
    (
        "image_features_drop_deep_flatten",
        "admin",
        "storage.image.update_features",
        lambda a, t, c, i: features.image_features_update(
            actor=a, **where(t, c), name=i, features={"deep-flatten": False}
        ),
    ),
    (
        "image_metadata_list",
        "viewer",
        None,
        lambda a, t, c, i: metadata.image_metadata_list(actor=a, **where(t, c), name=i),
    ),
    (
        "image_metadata_set",
        "operator",
        "storage.image.set_metadata",
        lambda a, t, c, i: metadata.image_metadata_set(actor=a, **where(t, c), name=i, key="team", value="a"),
    ),
    (
        "image_metadata_remove",
        "admin",
        "storage.image.remove_metadata",
        lambda a, t, c, i: metadata.image_metadata_remove(actor=a, **where(t, c), name=i, key="owner"),
    ),
    (
        "membership_set",
        "admin",
        "tenancy.membership.set",
        lambda a, t, c, i: tenancy.membership_set(actor=a, tenant=t.a, username="b-admin", role="viewer"),
    ),
]


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation[0] for operation in OPERATIONS])
def test_role_matrix(teams, ceph_cluster, image, role, operation):
    _name, needed, action, call = operation
    actor = teams.members[role]
    if RANK[role] >= RANK[needed]:
        call(actor, teams, ceph_cluster, image)
        if action:
            event = AuditEvent.objects.filter(action=action).exclude(source="task").get()
            assert (event.outcome, event.tenant_slug) == ("success", "team-a")
        return
    with pytest.raises(PermissionDenied) as refused:
        call(actor, teams, ceph_cluster, image)
    assert refused.value.code == "role_denied"
    event = AuditEvent.objects.get(action=action)
    assert (event.outcome, event.tenant_slug, event.actor_name) == ("denied", "team-a", actor.username)


# The namespace list of a pool both tenants share is allowed: it shows each only its own (tested below).
ON_TENANT_A = [operation for operation in OPERATIONS if operation[0] != "namespace_list"]


@pytest.mark.parametrize("operation", ON_TENANT_A, ids=[operation[0] for operation in ON_TENANT_A])
def test_another_tenants_admin_gets_not_found_recorded_as_denied(teams, ceph_cluster, image, operation):
    _name, _needed, _action, call = operation
    with pytest.raises(NotFound) as refused:
        call(teams.outsider, teams, ceph_cluster, image)
    assert refused.value.code == "tenant_denied"
    assert teams.pool in refused.value.message or "team-a" in refused.value.message
    denied = AuditEvent.objects.filter(outcome="denied", actor_name="b-admin")
    assert denied.count() == 1, list(denied.values("action", "outcome"))


def test_platform_admins_act_anywhere_and_the_event_names_the_tenant(teams, ceph_cluster, admin_user, image):
    images.image_create(actor=admin_user, **where(teams, ceph_cluster), name=fresh(), size="64MiB")
    assert AuditEvent.objects.get(action="storage.image.create").tenant_slug == "team-a"


def _user_with(role: str | None = None, **flags):
    user = get_user_model().objects.create_user(f"platform-{uuid.uuid4().hex[:6]}", **flags)
    if role:
        PlatformRole.objects.create(user=user, role=role)
    return user


def test_the_platform_admin_role_not_staff_status_makes_a_platform_admin(teams, ceph_cluster, image):
    granted = _user_with(PlatformRole.PLATFORM_ADMIN)
    images.image_resize(actor=granted, **where(teams, ceph_cluster), name=image, size="32MiB", allow_shrink=True)
    assert tenancy.is_platform_admin(granted) and not granted.is_staff

    staff = _user_with(is_staff=True)
    assert not tenancy.is_platform_admin(staff)
    with pytest.raises(NotFound):
        images.image_get(actor=staff, **where(teams, ceph_cluster), name=image)
    with pytest.raises(PermissionDenied):
        pools.pool_create(actor=staff, cluster=ceph_cluster, name=fresh())

    granted.is_active = False
    assert not tenancy.is_platform_admin(granted)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation[0] for operation in OPERATIONS])
def test_an_auditor_acts_as_a_viewer_even_as_a_tenants_admin(teams, ceph_cluster, image, operation):
    _name, needed, _action, call = operation
    auditor = _user_with(PlatformRole.AUDITOR, is_staff=True)
    Membership.objects.create(user=auditor, tenant=teams.a, role=Membership.ADMIN)
    if needed == "viewer":
        call(auditor, teams, ceph_cluster, image)
        return
    with pytest.raises(PermissionDenied) as refused:
        call(auditor, teams, ceph_cluster, image)
    assert refused.value.code == "role_denied"


def test_lists_show_only_the_callers_places(teams, ceph_cluster, admin_user):
    assert namespaces.namespace_list(actor=teams.members["viewer"], cluster=ceph_cluster, pool=teams.pool) == ["team-a"]
    assert namespaces.namespace_list(actor=teams.outsider, cluster=ceph_cluster, pool=teams.pool) == ["team-b"]
    assert [pool.name for pool in pools.pool_list(actor=teams.members["viewer"], cluster=ceph_cluster)] == [teams.pool]
    assert {"team-a", "team-b"} <= set(
        namespaces.namespace_list(actor=admin_user, cluster=ceph_cluster, pool=teams.pool)
    )


def test_tenant_users_cannot_manage_pools(teams, ceph_cluster):
    with pytest.raises(PermissionDenied):
        pools.pool_create(actor=teams.members["admin"], cluster=ceph_cluster, name=fresh())
    with pytest.raises(PermissionDenied):
        pools.pool_set_quota(actor=teams.members["admin"], cluster=ceph_cluster, name=teams.pool, max_bytes=1 << 30)
