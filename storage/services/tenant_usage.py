"""What a tenant's RBD images use, read from Ceph each time it is asked.

Ceph is the source of truth: images made or removed with the `rbd` CLI, by ceph-csi or by a
tenant's own key count the moment they exist, and there is no counter in Berth's database that
could drift from what the cluster holds. The sizes come from the pipelined header reads the image
list uses (a fraction of a millisecond per image).
"""

from dataclasses import dataclass

from storage.models import CephCluster
from storage.services.bindings import rados, rbd
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


def _namespace_usage(cluster: CephCluster, ioctx: "rados.Ioctx", pool: str, namespace: str) -> StorageUsage:
    ioctx.set_namespace(namespace)
    with translate_ceph_errors(cluster.name, f"reading the images of {pool}/{namespace}"):
        entries = [(entry["name"], entry["id"]) for entry in rbd.RBD().list2(ioctx)]
    headers = read_headers(cluster, ioctx, entries)
    return StorageUsage(
        images=len(headers),
        provisioned_bytes=sum(header.size for header in headers),
        snapshots=sum(header.snapshot_count for header in headers),
    )


def storage_usage(*, places: list[tuple[CephCluster, str, str | None]]) -> StorageUsage:
    """Usage summed over (cluster, pool, namespace) places; namespace None means the whole pool,
    every namespace in it included. A place that no longer exists in Ceph uses nothing."""
    total = StorageUsage()
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
                    total += _namespace_usage(cluster, ioctx, pool, name)
        except NotFoundPool:
            continue
    return total
