"""What a tenant's RBD images use, read from Ceph each time it is asked.

Ceph is the source of truth: images made or removed with the `rbd` CLI, by ceph-csi or by a
tenant's own key count the moment they exist, and there is no counter in Berth's database that
could drift from what the cluster holds. The sizes come from the pipelined header reads the image
list uses (a fraction of a millisecond per image).

Images in the trash count as fully as live ones, snapshots included: they still hold their data
and can be restored at any time, so leaving them out would let a tenant trash, create and restore
its way past its quota.
"""

from dataclasses import dataclass, field
from typing import Any

from storage.models import CephCluster
from storage.services.bindings import rbd
from storage.services.connection import NotFoundPool, open_ioctx
from storage.services.errors import translate_ceph_errors
from storage.services.headers import read_headers


@dataclass(frozen=True)
class StorageUsage:
    images: int = 0
    provisioned_bytes: int = 0
    snapshots: int = 0

    def __add__(self, other: "StorageUsage") -> "StorageUsage":
        return StorageUsage(
            self.images + other.images,
            self.provisioned_bytes + other.provisioned_bytes,
            self.snapshots + other.snapshots,
        )

    def __sub__(self, other: "StorageUsage") -> "StorageUsage":
        return StorageUsage(
            self.images - other.images,
            self.provisioned_bytes - other.provisioned_bytes,
            self.snapshots - other.snapshots,
        )


@dataclass(frozen=True)
class ObservedImage:
    id: str
    size: int
    snapshots: int


@dataclass
class StorageObservation:
    """Every image of some places, live and in the trash, as Ceph showed them at one read.

    Images are keyed by (cluster id, pool, image id): librbd's ids are unique within a pool, and
    an image keeps its id through the trash and through renames. Live images are also found by
    (cluster id, pool, namespace, name).
    """

    by_id: dict[tuple[int, str, str], ObservedImage] = field(default_factory=dict)
    live: dict[tuple[int, str, str, str], ObservedImage] = field(default_factory=dict)

    @property
    def usage(self) -> StorageUsage:
        return StorageUsage(
            images=len(self.by_id),
            provisioned_bytes=sum(image.size for image in self.by_id.values()),
            snapshots=sum(image.snapshots for image in self.by_id.values()),
        )

    def image(self, cluster_id: int, pool: str, image_id: str) -> ObservedImage | None:
        return self.by_id.get((cluster_id, pool, image_id))

    def live_image(self, cluster_id: int, pool: str, namespace: str, name: str) -> ObservedImage | None:
        return self.live.get((cluster_id, pool, namespace, name))


def _observe_namespace(
    observation: StorageObservation, cluster: CephCluster, ioctx: Any, pool: str, namespace: str
) -> None:
    ioctx.set_namespace(namespace)
    # Live images first, then the trash: librbd adds a trashed image to the trash before it takes it
    # out of the image directory, so an image moving to the trash between the two reads is seen at
    # least once (and counted once, by its id). Restores, which go the other way, hold a reservation.
    with translate_ceph_errors(cluster.name, f"reading the images of {pool}/{namespace}"):
        live = [(entry["name"], entry["id"]) for entry in rbd.RBD().list2(ioctx)]
    live_headers = read_headers(cluster, ioctx, live)
    with translate_ceph_errors(cluster.name, f"reading the trash of {pool}/{namespace}"):
        trashed = [(entry["name"], entry["id"]) for entry in rbd.RBD().trash_list(ioctx)]
    for headers, is_live in ((live_headers, True), (read_headers(cluster, ioctx, trashed), False)):
        for header in headers:
            image = ObservedImage(id=header.id, size=header.size, snapshots=header.snapshot_count)
            observation.by_id[(cluster.pk, pool, header.id)] = image
            if is_live:
                observation.live[(cluster.pk, pool, namespace, header.name)] = image


def storage_observe(*, places: list[tuple[CephCluster, str, str | None]]) -> StorageObservation:
    """Every image of the (cluster, pool, namespace) places; namespace None means the whole pool,
    every namespace in it included. A place that no longer exists in Ceph holds nothing."""
    observation = StorageObservation()
    for cluster, pool, namespace in places:
        try:
            with open_ioctx(cluster, pool) as ioctx:
                with translate_ceph_errors(cluster.name, f"listing namespaces of {pool}"):
                    existing = rbd.RBD().namespace_list(ioctx)
                if namespace is None:
                    namespaces = ["", *existing]
                else:
                    namespaces = [namespace] if namespace in existing or not namespace else []
                for name in namespaces:
                    _observe_namespace(observation, cluster, ioctx, pool, name)
        except NotFoundPool:
            continue
    return observation
