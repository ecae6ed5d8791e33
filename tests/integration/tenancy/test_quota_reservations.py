"""Quota checks hold no lock across Ceph I/O: room is reserved in a short transaction, Ceph is
called outside any transaction, and the reservation is released afterwards. Reservations are the
shared record of changes in flight: they count until released, and one of a process that died
(it expires) stops counting on its own."""

import threading
from datetime import timedelta

import pytest
import rbd
from django.db import connection, transaction
from django.utils import timezone

from dashboard.core.errors import BerthError, QuotaExceeded
from storage.models import QuotaReservation, StorageQuota
from storage.services import images, snapshots, trash
from storage.services import tenancy as storage_tenancy
from storage.services.tenancy import ImageChange
from tests.helpers import unique_name
from tests.integration.tenancy.conftest import pool_with_team_namespaces

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MIB, GIB = 1 << 20, 1 << 30


@pytest.fixture
def shared_pool(ceph_admin):
    """A pool of each test's own (namespaces team-a and team-b): usage starts at nothing."""
    yield from pool_with_team_namespaces(ceph_admin, "reserve")


def where(teams, cluster) -> dict:
    return {"cluster": cluster, "pool": teams.pool, "namespace": "team-a"}


def spying(cls: type, methods: list[str], calls: list) -> type:
    """The real librbd class, noting for each call of `methods` whether a transaction was open."""

    def spy(name: str):
        real = getattr(cls, name)

        def call(self, *args, **kwargs):
            calls.append((name, connection.in_atomic_block))
            return real(self, *args, **kwargs)

        return call

    return type(f"Spying{cls.__name__}", (cls,), {name: spy(name) for name in methods})


def test_no_transaction_is_open_while_ceph_is_read_or_changed(teams, ceph_cluster, ceph_admin, monkeypatch):
    StorageQuota.objects.filter(tenant=teams.a).update(max_provisioned_gib=10, max_images=10, max_snapshots=10)
    calls: list = []
    monkeypatch.setattr(
        rbd, "RBD", spying(rbd.RBD, ["list2", "trash_list", "create", "clone", "trash_restore", "trash_move"], calls)
    )
    monkeypatch.setattr(rbd, "Image", spying(rbd.Image, ["resize", "create_snap", "rollback_to_snap"], calls))
    actor, name = teams.members["admin"], unique_name("spied")

    images.image_create(actor=actor, **where(teams, ceph_cluster), name=name, size=64 * MIB)
    images.image_resize(actor=actor, **where(teams, ceph_cluster), name=name, size=128 * MIB)
    snapshots.snapshot_create(actor=actor, **where(teams, ceph_cluster), image=name, snapshot="s")
    snapshots.snapshot_protect(actor=actor, **where(teams, ceph_cluster), image=name, snapshot="s")
    snapshots.image_clone(
        actor=actor,
        **where(teams, ceph_cluster),
        image=name,
        snapshot="s",
        dest_pool=teams.pool,
        dest_namespace="team-a",
        dest_name=unique_name("clone"),
    )
    images.image_resize(actor=actor, **where(teams, ceph_cluster), name=name, size=32 * MIB, allow_shrink=True)
    snapshots.snapshot_rollback(actor=actor, **where(teams, ceph_cluster), image=name, snapshot="s")
    images.image_delete(actor=actor, **where(teams, ceph_cluster), name=name)
    [entry] = [entry for entry in trash.trash_list(actor=actor, **where(teams, ceph_cluster)) if entry.name == name]
    trash.trash_restore(actor=actor, **where(teams, ceph_cluster), image_id=entry.id)

    changes = {"create", "resize", "create_snap", "clone", "rollback_to_snap", "trash_move", "trash_restore"}
    assert changes <= {name for name, _ in calls}, calls
    # Usage was read (list2, trash_list) for every guarded change, all of it outside any transaction.
    assert {"list2", "trash_list"} <= {name for name, _ in calls}
    assert [call for call in calls if call[1]] == []
    assert not QuotaReservation.objects.exists()


def test_a_change_in_flight_holds_its_room_until_released(teams, ceph_cluster):
    StorageQuota.objects.filter(tenant=teams.a).update(max_provisioned_gib=1)
    held = storage_tenancy.storage_reserve(
        tenant=teams.a,
        change=ImageChange(ceph_cluster, teams.pool, "team-a", "in-flight", size=768 * MIB, creates=True),
    )
    create = dict(actor=teams.members["operator"], **where(teams, ceph_cluster), size=512 * MIB)

    with pytest.raises(QuotaExceeded) as refused:
        images.image_create(**create, name=unique_name("late"))
    assert refused.value.extra["used"] == 768 * MIB

    storage_tenancy.storage_release(held)
    images.image_create(**create, name=unique_name("now-fits"))


def test_the_reservation_of_a_process_that_died_stops_counting_when_it_expires(teams, ceph_cluster):
    StorageQuota.objects.filter(tenant=teams.a).update(max_provisioned_gib=1)
    change = ImageChange(ceph_cluster, teams.pool, "team-a", "never-made", size=GIB, creates=True)
    storage_tenancy.storage_reserve(tenant=teams.a, change=change)
    # The process that reserved it died before it could make the image or release the room.
    QuotaReservation.objects.update(owner="gone-host:4242", expires_at=timezone.now() - timedelta(seconds=1))

    images.image_create(
        actor=teams.members["operator"], **where(teams, ceph_cluster), name=unique_name("after"), size=GIB
    )
    assert list(QuotaReservation.objects.values_list("owner", flat=True)) == []


def test_a_queued_copy_whose_room_lapsed_checks_the_quota_again_before_it_runs(teams, ceph_cluster):
    StorageQuota.objects.filter(tenant=teams.a).update(max_provisioned_gib=1)
    change = ImageChange(ceph_cluster, teams.pool, "team-a", "copy-target", size=768 * MIB, creates=True)
    queued = storage_tenancy.storage_reserve(tenant=teams.a, change=change)
    QuotaReservation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    # Meanwhile the room went to another image.
    images.image_create(
        actor=teams.members["operator"], **where(teams, ceph_cluster), name=unique_name("took-it"), size=512 * MIB
    )

    with pytest.raises(QuotaExceeded):
        storage_tenancy.storage_renew(queued, change)


def test_a_failed_change_releases_its_room(teams, ceph_cluster, ceph_admin):
    StorageQuota.objects.filter(tenant=teams.a).update(max_provisioned_gib=1)
    name = unique_name("taken")
    ceph_admin.create_image(f"{teams.pool}/team-a/{name}", "64M")
    with pytest.raises(BerthError) as failed:
        images.image_create(actor=teams.members["operator"], **where(teams, ceph_cluster), name=name, size=GIB // 2)
    assert failed.value.code == "image_exists"
    assert not QuotaReservation.objects.exists()


def test_concurrent_creates_never_exceed_the_quota_on_sqlite(teams, ceph_cluster, ceph_admin):
    """The same race as tests/postgres/test_quota_concurrency.py, on the embedded database."""
    StorageQuota.objects.filter(tenant=teams.a).update(max_provisioned_gib=4)
    start = threading.Barrier(10)
    created, refused, unexpected = [], [], []

    def create(index: int) -> None:
        try:
            start.wait()
            images.image_create(
                actor=teams.members["operator"], **where(teams, ceph_cluster), name=f"race-{index}", size=GIB
            )
            created.append(index)
        except QuotaExceeded as error:
            refused.append(error)
        except BaseException as error:
            unexpected.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(index,)) for index in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)

    assert not unexpected, unexpected
    assert (len(created), len(refused)) == (4, 6)
    assert all(error.extra["used"] == 4 * GIB for error in refused)
    assert not QuotaReservation.objects.exists()


def test_a_database_write_elsewhere_is_not_held_up_by_a_guarded_change(teams, ceph_cluster, monkeypatch):
    """While Ceph works on a guarded change, the rest of Berth can write to the database."""
    StorageQuota.objects.filter(tenant=teams.a).update(max_provisioned_gib=10)
    written = []

    class WritingWhileCreating(rbd.RBD):
        def create(self, *args, **kwargs):
            # Another request's write, from another connection, while the change is in Ceph.
            thread = threading.Thread(target=write_elsewhere)
            thread.start()
            thread.join(timeout=30)
            return super().create(*args, **kwargs)

    def write_elsewhere():
        try:
            with transaction.atomic():
                teams.b.description = "changed meanwhile"
                teams.b.save(update_fields=["description"])
            written.append(True)
        finally:
            connection.close()

    monkeypatch.setattr(rbd, "RBD", WritingWhileCreating)
    images.image_create(
        actor=teams.members["operator"], **where(teams, ceph_cluster), name=unique_name("busy"), size=64 * MIB
    )
    assert written == [True]
