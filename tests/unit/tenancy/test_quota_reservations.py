"""What a reservation adds to what Ceph showed: a change in flight counts until Ceph shows it, and
never twice."""

import pytest

from dashboard.tenancy.models import Tenant
from storage.models import CephCluster
from storage.services.connection import NotFoundImage
from storage.services.tenancy import ImageChange, _reservation_for, in_flight
from storage.services.tenant_usage import ObservedImage, StorageObservation, StorageUsage

pytestmark = pytest.mark.unit

GIB = 1 << 30
TENANT = Tenant(pk=1, name="Team A", slug="team-a")
CLUSTER = CephCluster(pk=7, name="local")


def observed(live: dict[str, tuple[str, int, int]], trash: dict[str, tuple[int, int]] | None = None):
    """Ceph showing `live` images ({name: (id, size, snapshots)}) and `trash` ({id: (size, snapshots)})."""
    observation = StorageObservation()
    for name, (image_id, size, snapshots) in live.items():
        image = ObservedImage(image_id, size, snapshots)
        observation.by_id[(CLUSTER.pk, "rbd", image_id)] = image
        observation.live[(CLUSTER.pk, "rbd", "team-a", name)] = image
    for image_id, (size, snapshots) in (trash or {}).items():
        observation.by_id[(CLUSTER.pk, "rbd", image_id)] = ObservedImage(image_id, size, snapshots)
    return observation


def change(name: str, **kwargs) -> ImageChange:
    return ImageChange(CLUSTER, "rbd", "team-a", name, **kwargs)


def reserve(what: ImageChange, observation: StorageObservation, held=()):
    return _reservation_for(TENANT, what, observation, list(held))


def test_a_new_image_counts_whole_until_ceph_lists_it_and_then_not_again():
    before = observed({})
    reservation = reserve(change("new", size=GIB, creates=True), before)
    assert in_flight([reservation], before) == StorageUsage(1, GIB, 0)
    after = observed({"new": ("id1", GIB, 0)})
    assert after.usage + in_flight([reservation], after) == StorageUsage(1, GIB, 0)


def test_a_resize_adds_only_the_growth_ceph_does_not_show_yet():
    before = observed({"disk": ("id1", GIB, 0)})
    grow = reserve(change("disk", size=3 * GIB), before)
    assert in_flight([grow], before) == StorageUsage(0, 2 * GIB, 0)
    assert in_flight([grow], observed({"disk": ("id1", 3 * GIB, 0)})) == StorageUsage()
    assert in_flight([reserve(change("disk", size=GIB // 2), before)], before) == StorageUsage()


def test_an_image_is_followed_by_its_id_through_renames_and_the_trash():
    reservation = reserve(change("disk", size=2 * GIB), observed({"disk": ("id1", GIB, 0)}))
    assert in_flight([reservation], observed({"renamed": ("id1", 2 * GIB, 0)})) == StorageUsage()
    assert in_flight([reservation], observed({}, trash={"id1": (2 * GIB, 0)})) == StorageUsage()


def test_a_restore_adds_nothing_and_keeps_the_image_counted_while_it_moves():
    in_trash = observed({}, trash={"id9": (4 * GIB, 2)})
    reservation = reserve(change("back", trash_id="id9"), in_trash)
    assert in_flight([reservation], in_trash) == StorageUsage()
    assert in_flight([reservation], observed({"back": ("id9", 4 * GIB, 2)})) == StorageUsage()
    # A read made while librbd moves it finds it in neither list: the reservation still counts it.
    assert in_flight([reservation], observed({})) == StorageUsage(1, 4 * GIB, 2)


def test_two_snapshots_in_flight_on_one_image_need_two_more():
    before = observed({"disk": ("id1", GIB, 1)})
    first = reserve(change("disk", adds_snapshot=True), before)
    second = reserve(change("disk", adds_snapshot=True), before, held=[first])
    assert in_flight([first, second], before) == StorageUsage(0, 0, 2)
    assert in_flight([first, second], observed({"disk": ("id1", GIB, 2)})) == StorageUsage(0, 0, 1)


def test_two_resizes_in_flight_on_one_image_need_the_larger_size_not_the_sum():
    before = observed({"disk": ("id1", GIB, 0)})
    resizes = [reserve(change("disk", size=size), before) for size in (3 * GIB, 2 * GIB)]
    assert in_flight(resizes, before) == StorageUsage(0, 2 * GIB, 0)


def test_changing_an_image_ceph_does_not_show_is_a_missing_image():
    with pytest.raises(NotFoundImage):
        reserve(change("ghost", size=GIB), observed({}))
