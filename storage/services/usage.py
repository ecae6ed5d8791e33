"""What images really use, as `rbd du` counts it: allocated objects, from the object map.

With fast-diff (and a valid object map) librbd answers from the object map alone, without reading
data objects; each snapshot is charged what changed between it and the snapshot before it, the
image's head what changed since its last snapshot. Without fast-diff the answer would mean reading
every object of the image, so Berth shows "unknown" instead and says to enable fast-diff.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from dashboard.core.actors import Actor
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Tenant
from storage.models import CephCluster, UsageSample
from storage.services import tenancy as storage_tenancy
from storage.services.bindings import rados, rbd
from storage.services.connection import NotFoundPool, image_spec, open_image, open_ioctx
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
class MeasuredUse:
    used: int  # over the images whose usage is known
    unknown: int  # images without a usable fast-diff, not in `used`


@dataclass(frozen=True)
class SampledUse:
    """A tenant's used bytes as the usage sampler last measured them on each of its clusters."""

    used: int
    unknown: int
    measured_at: datetime | None  # the oldest of the clusters' last samples; None: none measured yet
    unmeasured_clusters: list[str] = field(default_factory=list)


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


def used_by_name(ioctx: "rados.Ioctx", names: Iterable[str], *, pause: float = 0) -> dict[str, int | None]:
    """Each named image's `rbd du` total in an open pool/namespace (the caller translates Ceph errors);
    an image removed meanwhile is left out. `pause`: seconds to wait before opening each image after the
    first, for a measure nobody waits for."""
    found: dict[str, int | None] = {}
    for index, name in enumerate(names):
        if pause and index:
            time.sleep(pause)
        try:
            with rbd.Image(ioctx, name, read_only=True) as image:
                found[name] = measure(image).total
        except rbd.ImageNotFound:
            continue
    return found


def places_used(cluster: CephCluster, places: list[tuple[str, str | None]]) -> MeasuredUse:
    """What the live images of (pool, namespace) places of one cluster use; namespace None is the whole
    pool, every namespace in it. It opens every image (a few milliseconds each), so only the background
    usage sampler calls it; the trash is left out, its images cannot be opened to measure."""
    used = unknown = 0
    for pool, namespace in places:
        try:
            with open_ioctx(cluster, pool) as ioctx:
                with translate_ceph_errors(cluster.name, f"measuring the images of {pool}"):
                    existing = rbd.RBD().namespace_list(ioctx)
                    if namespace is None:
                        namespaces = ["", *existing]
                    else:
                        namespaces = [namespace] if namespace in existing or not namespace else []
                    for name_space in namespaces:
                        ioctx.set_namespace(name_space)
                        names = [entry["name"] for entry in rbd.RBD().list2(ioctx)]
                        for total in used_by_name(ioctx, names).values():
                            if total is None:
                                unknown += 1
                            else:
                                used += total
        except NotFoundPool:
            continue
    return MeasuredUse(used, unknown)


def tenant_used_sampled(*, actor: Actor, tenant: Tenant) -> SampledUse:
    """The tenant's used bytes from each of its clusters' latest usage sample, so a tenant page does
    not open thousands of images on every view; provisioned bytes stay live (read from the headers)."""
    tenancy.require_role(actor, tenant, tenancy.VIEWER)
    used = unknown = 0
    times: list[datetime] = []
    unmeasured: list[str] = []
    for cluster in CephCluster.objects.filter(pk__in=tenant.storage_bindings.values("cluster")).order_by("name"):
        sample = (
            UsageSample.objects.filter(tenant=tenant, cluster=cluster, used_bytes__isnull=False)
            .order_by("-time")
            .first()
        )
        if sample is None:
            unmeasured.append(cluster.name)
            continue
        used += sample.used_bytes or 0
        unknown += sample.unmeasured_images or 0
        times.append(sample.time)
    return SampledUse(used, unknown, min(times, default=None), unmeasured)
