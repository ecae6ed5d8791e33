"""Copying or cloning an image from one tenant's place into another's needs the operator role (or
more) in both tenants: in the source, because the data leaves that tenant's control; in the
destination, because the new image is that tenant's. Either way round, through the services the
API, the UI and the admin share. The new image counts against the destination's quota."""

import json

import pytest
from django.contrib.auth import get_user_model

from dashboard.audit.models import AuditEvent
from dashboard.core.errors import PermissionDenied, QuotaExceeded
from dashboard.tasks.models import BackgroundTask
from dashboard.tenancy.models import Membership
from storage.models import StorageQuota
from storage.services import images, snapshots
from tests.helpers import unique_name, wait_for_task

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DIRECTIONS = {"a-to-b": ("team-a", "team-b"), "b-to-a": ("team-b", "team-a")}


@pytest.fixture
def source_image(teams, ceph_admin) -> str:
    """An image with a protected snapshot `base` in each tenant's namespace, under one name."""
    name = unique_name("src")
    for namespace in ("team-a", "team-b"):
        spec = f"{teams.pool}/{namespace}/{name}"
        ceph_admin.create_image(spec, "64M", snapshots=("base",), protected=("base",))
    return name


def member_of_both(teams, roles: dict[str, str]):
    user = get_user_model().objects.create_user(unique_name("both"), password="pw-not-used-0")
    Membership.objects.create(user=user, tenant=teams.a, role=roles["team-a"])
    Membership.objects.create(user=user, tenant=teams.b, role=roles["team-b"])
    return user


def names_in(ceph_admin, pool: str, namespace: str) -> list[str]:
    return json.loads(ceph_admin.rbd("ls", "--format", "json", f"{pool}/{namespace}"))


def copy(actor, cluster, pool, source, dest, name, dest_name):
    task = images.image_copy(
        actor=actor, cluster=cluster, pool=pool, namespace=source, name=name,
        dest_pool=pool, dest_namespace=dest, dest_name=dest_name,
    )  # fmt: skip
    assert wait_for_task(task).status == BackgroundTask.SUCCEEDED


def clone(actor, cluster, pool, source, dest, name, dest_name):
    snapshots.image_clone(
        actor=actor, cluster=cluster, pool=pool, namespace=source, image=name, snapshot="base",
        dest_pool=pool, dest_namespace=dest, dest_name=dest_name,
    )  # fmt: skip


@pytest.mark.parametrize("operation", [copy, clone], ids=["copy", "clone"])
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize(
    "source_role, dest_role, allowed",
    [
        ("viewer", "operator", False),
        ("viewer", "admin", False),
        ("operator", "viewer", False),
        ("operator", "operator", True),
        ("admin", "operator", True),
    ],
)
def test_taking_an_image_out_of_a_tenant_needs_operator_in_both(
    teams, ceph_cluster, ceph_admin, source_image, operation, direction, source_role, dest_role, allowed
):
    source, dest = DIRECTIONS[direction]
    actor = member_of_both(teams, {source: source_role, dest: dest_role})
    dest_name = unique_name("copied")
    call = (actor, ceph_cluster, teams.pool, source, dest, source_image, dest_name)

    if allowed:
        operation(*call)
        assert dest_name in names_in(ceph_admin, teams.pool, dest)
        return
    with pytest.raises(PermissionDenied) as refused:
        operation(*call)
    assert refused.value.code == "role_denied"
    assert (source if source_role == "viewer" else dest) in refused.value.message
    assert dest_name not in names_in(ceph_admin, teams.pool, dest)
    event = AuditEvent.objects.get(action=f"storage.image.{operation.__name__}")
    assert (event.outcome, event.actor_name) == ("denied", actor.username)


@pytest.mark.parametrize("operation", [copy, clone], ids=["copy", "clone"])
def test_a_copy_or_clone_counts_against_the_destination_tenants_quota(
    teams, ceph_cluster, ceph_admin, source_image, operation
):
    StorageQuota.objects.create(tenant=teams.b, max_images=1)
    actor = member_of_both(teams, {"team-a": "operator", "team-b": "operator"})
    over_b, into_a = unique_name("over-b"), unique_name("into-a")
    with pytest.raises(QuotaExceeded) as refused:
        operation(actor, ceph_cluster, teams.pool, "team-a", "team-b", source_image, over_b)
    assert refused.value.extra["limit"] == "max_images" and "team-b" in refused.value.message
    assert over_b not in names_in(ceph_admin, teams.pool, "team-b")
    # Tenant A has no limits, so the same image may go the other way.
    operation(actor, ceph_cluster, teams.pool, "team-b", "team-a", source_image, into_a)
    assert into_a in names_in(ceph_admin, teams.pool, "team-a")
