"""What images really use, as `rbd du` counts it: allocated objects, from the object map.

With fast-diff (and a valid object map) librbd answers from the object map alone, without reading
data objects; each snapshot is charged what changed between it and the snapshot before it, the
image's head what changed since its last snapshot. Without fast-diff the answer would mean reading
every object of the image, so Berth shows "unknown" instead and says to enable fast-diff.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from dashboard.core.actors import Actor
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Tenant
from storage.models import CephCluster
from storage.services import tenancy as storage_tenancy
from storage.services.bindings import rados, rbd
from storage.services.connection import image_spec, open_image, open_ioctx
from storage.services.errors import translate_ceph_errors
from storage.services.headers import FEATURE_BITS


@dataclass(frozen=True)
class SnapshotUsage:
    name: str
    used: int


@dataclass(frozen=True)
class ImageUsage:
    provisioned: int
    used: int | None  # the head's own allocation; None without a usable fast-diff
    total: int | None  # head plus every snapshot's, what `rbd du` shows for the image as a whole
    snapshots: list[SnapshotUsage] = field(default_factory=list)


@dataclass(frozen=True)
class TenantUsage:
    provisioned: int
    used: int  # over the images whose usage is known
    unknown: int  # images without a usable fast-diff, not in `used`


def fast_diff_usable(features: int, flags: int) -> bool:
    return bool(features & FEATURE_BITS["fast-diff"]) and not flags & rbd.RBD_FLAG_FAST_DIFF_INVALID


def _allocated(image: "rbd.Image", since: str | None, at: str | None, size: int) -> int:
    used = 0

    def count(offset: int, length: int, exists: bool) -> None:
        nonlocal used
        if exists:
            used += length

    image.set_snap(at)
    try:
        image.diff_iterate(0, size, since, count, include_parent=False, whole_object=True)
    finally:
        image.set_snap(None)
    return used


def measure(image: "rbd.Image") -> ImageUsage:
    """An open image's usage (the caller translates Ceph errors)."""
    size = image.size()
    if not fast_diff_usable(image.features(), image.flags()):
        return ImageUsage(provisioned=size, used=None, total=None)
    snapshots, previous = [], None
    for snap in sorted(image.list_snaps(), key=lambda snap: snap["id"]):
        snapshots.append(SnapshotUsage(snap["name"], _allocated(image, previous, snap["name"], snap["size"])))
        previous = snap["name"]
    head = _allocated(image, previous, None, size)
    return ImageUsage(size, head, head + sum(s.used for s in snapshots), snapshots)


def image_usage(*, actor: Actor, cluster: CephCluster, pool: str, namespace: str, name: str) -> ImageUsage:
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.VIEWER)
    with open_image(cluster, pool, namespace, name, read_only=True) as image:
        with translate_ceph_errors(cluster.name, f"measuring the usage of {image_spec(pool, namespace, name)}"):
            return measure(image)


def used_by_name(ioctx: "rados.Ioctx", names: Iterable[str]) -> dict[str, int | None]:
    """Each named image's `rbd du` total in an open pool/namespace (the caller translates Ceph errors);
    an image removed meanwhile is left out."""
    found: dict[str, int | None] = {}
    for name in names:
        try:
            with rbd.Image(ioctx, name, read_only=True) as image:
                found[name] = measure(image).total
        except rbd.ImageNotFound:
            continue
    return found


def tenant_usage(*, actor: Actor, tenant: Tenant) -> TenantUsage:
    """Provisioned and used bytes over every image in the tenant's places (the trash not included:
    its images cannot be opened to measure)."""
    tenancy.require_role(actor, tenant, tenancy.VIEWER)
    provisioned = used = unknown = 0
    for binding in tenant.storage_bindings.select_related("cluster"):
        with (
            open_ioctx(binding.cluster, binding.pool, binding.namespace) as ioctx,
            translate_ceph_errors(binding.cluster.name, f"measuring {image_spec(binding.pool, binding.namespace, '')}"),
        ):
            for name in (entry["name"] for entry in rbd.RBD().list2(ioctx)):
                try:
                    with rbd.Image(ioctx, name, read_only=True) as image:
                        measured = measure(image)
                except rbd.ImageNotFound:
                    continue
                provisioned += measured.provisioned
                if measured.total is None:
                    unknown += 1
                else:
                    used += measured.total
    return TenantUsage(provisioned, used, unknown)
