"""Copying an image as it was at a snapshot (through the same quota reservation as any copy),
renaming snapshots, and cloning unprotected snapshots once the cluster requires mimic clients."""

import json

import pytest

from dashboard.audit.models import AuditEvent
from dashboard.core.errors import Conflict, InvalidInput, NotFound, QuotaExceeded
from dashboard.tasks.models import BackgroundTask
from storage.models import StorageQuota
from storage.services import images, snapshots
from tests.helpers import unique_name, wait_for_task

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shrunk_image(teams, ceph_admin) -> str:
    """2 GiB with snapshot `big`, then shrunk to 512 MiB."""
    name = unique_name("snapcopy")
    spec = f"{teams.pool}/team-a/{name}"
    ceph_admin.create_image(spec, "2G")
    ceph_admin.create_snapshot(f"{spec}@big")
    ceph_admin.rbd("resize", "--size", "512M", "--allow-shrink", spec)
    return name


def info(ceph_admin, spec: str) -> dict:
    return json.loads(ceph_admin.rbd("info", "--format", "json", spec))


def copy(actor, teams, cluster, name, dest_name, snapshot=None):
    return images.image_copy(
        actor=actor, cluster=cluster, pool=teams.pool, namespace="team-a", name=name, snapshot=snapshot,
        dest_pool=teams.pool, dest_namespace="team-a", dest_name=dest_name,
    )  # fmt: skip


def test_copy_from_a_snapshot_has_the_snapshots_size_and_no_parent(teams, ceph_cluster, ceph_admin, shrunk_image):
    dest = unique_name("from-big")
    task = copy(teams.members["operator"], teams, ceph_cluster, shrunk_image, dest, snapshot="big")
    assert wait_for_task(task).status == BackgroundTask.SUCCEEDED, task.message
    copied = info(ceph_admin, f"{teams.pool}/team-a/{dest}")
    assert (copied["size"], copied.get("parent")) == (2 << 30, None)
    event = AuditEvent.objects.filter(action="storage.image.copy").exclude(source="task").get()
    assert event.parameters["snapshot"] == "big" and event.outcome == "success"


def test_copy_from_a_snapshot_counts_the_snapshots_size_against_the_quota(teams, ceph_cluster, shrunk_image):
    StorageQuota.objects.filter(tenant=teams.a).update(max_image_gib=1)
    with pytest.raises(QuotaExceeded):
        copy(teams.members["operator"], teams, ceph_cluster, shrunk_image, unique_name("too-big"), snapshot="big")
    # The image itself (512 MiB now) still fits.
    task = copy(teams.members["operator"], teams, ceph_cluster, shrunk_image, unique_name("fits"))
    assert wait_for_task(task).status == BackgroundTask.SUCCEEDED


def test_copy_from_a_missing_snapshot_is_not_found(teams, ceph_cluster, shrunk_image):
    with pytest.raises(NotFound) as missing:
        copy(teams.members["operator"], teams, ceph_cluster, shrunk_image, unique_name("x"), snapshot="nope")
    assert missing.value.code == "snapshot_not_found"


def test_snapshot_rename(teams, ceph_cluster, ceph_admin, shrunk_image):
    where = {"cluster": ceph_cluster, "pool": teams.pool, "namespace": "team-a", "image": shrunk_image}
    operator = teams.members["operator"]
    renamed = snapshots.snapshot_rename(actor=operator, **where, snapshot="big", new_name="before-shrink")
    assert renamed.name == "before-shrink" and renamed.size == 2 << 30
    spec = f"{teams.pool}/team-a/{shrunk_image}"
    assert [s["name"] for s in json.loads(ceph_admin.rbd("snap", "ls", "--format", "json", spec))] == ["before-shrink"]
    ceph_admin.create_snapshot(f"{spec}@other")
    with pytest.raises(Conflict) as taken:
        snapshots.snapshot_rename(actor=operator, **where, snapshot="other", new_name="before-shrink")
    assert taken.value.code == "snapshot_exists"
    with pytest.raises(NotFound):
        snapshots.snapshot_rename(actor=operator, **where, snapshot="big", new_name="again")
    with pytest.raises(InvalidInput):
        snapshots.snapshot_rename(actor=operator, **where, snapshot="other", new_name="a@b")


def test_clone_without_protecting_only_once_the_cluster_requires_mimic_clients(
    teams, ceph_cluster, ceph_admin, shrunk_image
):
    where = {"cluster": ceph_cluster, "pool": teams.pool, "namespace": "team-a", "image": shrunk_image}
    dest = {"dest_pool": teams.pool, "dest_namespace": "team-a"}
    operator = teams.members["operator"]
    before = json.loads(ceph_admin.ceph("osd", "dump", "--format", "json"))["require_min_compat_client"]
    assert not snapshots.clone_v2_allowed_for(before), "the dev cluster is expected to start below mimic"
    with pytest.raises(InvalidInput) as refused:
        snapshots.image_clone(actor=operator, **where, snapshot="big", **dest, dest_name=unique_name("c"))
    assert refused.value.code == "snapshot_not_protected" and "mimic" in refused.value.message
    ceph_admin.ceph("osd", "set-require-min-compat-client", "mimic")
    try:
        clone = snapshots.image_clone(actor=operator, **where, snapshot="big", **dest, dest_name=unique_name("c"))
        assert clone.parent == f"{teams.pool}/team-a/{shrunk_image}@big"
        spec = f"{teams.pool}/team-a/{shrunk_image}"
        snaps = json.loads(ceph_admin.rbd("snap", "ls", "--format", "json", spec))
        assert [s.get("protected") for s in snaps] == ["false"]
    finally:
        ceph_admin.ceph("osd", "set-require-min-compat-client", before, "--yes-i-really-mean-it")
