"""RBD images: listing without opening them, and every change an operator makes to one.

Listing reads what `rbd ls -l` gets by opening each image (~4 ms apiece) straight from each
image's header object instead: one pipelined RADOS read of a few omap keys per image (~0.1 ms
apiece when all are in flight), kept in a cache shared by Berth's processes (image_cache.py): an
image created, renamed or removed by anyone shows on the next list, one resized outside Berth within
BERTH_IMAGE_LIST_REVALIDATE seconds; one removed between the directory read and its header read simply
drops out of the page.
"""

import errno
import logging
import struct
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from django.utils import timezone

from dashboard.audit.services import audited_action
from dashboard.core.actors import Actor
from dashboard.core.errors import BerthError, Conflict, InvalidInput, NotFound
from dashboard.core.units import format_binary_size
from dashboard.tasks.models import BackgroundTask
from dashboard.tasks.services import ProgressCallback, task_body, task_start
from dashboard.tenancy import services as tenancy
from storage.models import CephCluster, QuotaReservation
from storage.selectors import ceph_cluster_get
from storage.services import image_cache, image_users, usage
from storage.services import tenancy as storage_tenancy
from storage.services.bindings import rados, rbd
from storage.services.connection import NotFoundImage, image_spec, mon_command, open_image, open_ioctx
from storage.services.errors import translate_ceph_errors
from storage.services.headers import FEATURE_BITS, ID, IS_CLONE, NAME, ImageHeader, Row, feature_names, read_rows
from storage.services.types import ImageInfo, ImagePage, ImageRows
from storage.validation import (
    DEFAULT_FEATURE_PRESET,
    DEFAULT_OBJECT_SIZE,
    FEATURE_PRESETS,
    parse_size,
    validate_confirmation,
    validate_feature_preset,
    validate_namespace,
    validate_object_name,
    validate_protect_days,
)

logger = logging.getLogger(__name__)

SORT_KEYS = ("name", "size", "created")
KUBERNETES_FILTERS = ("", "used", "unused")
# A whole pool of 50,000 images fits one page (about 10 MB of JSON, encoded from cached rows in a fraction
# of a second), so a client can sort or export it without paging through a moving list.
MAX_PAGE_SIZE = 100_000


def _preset_bits(preset: str) -> int:
    bits = 0
    for name in FEATURE_PRESETS[preset]:
        bits |= FEATURE_BITS[name]
    return bits


def _parent_spec(ioctx: "rados.Ioctx", name: str) -> str | None:
    try:
        with rbd.Image(ioctx, name, read_only=True) as image:
            return _format_parent(image)
    except rbd.ImageNotFound:
        return None


def _format_parent(image: "rbd.Image") -> str | None:
    try:
        parent = image.get_parent_image_spec()
    except rbd.ImageNotFound:
        return None
    return f"{image_spec(parent['pool_name'], parent['pool_namespace'], parent['image_name'])}@{parent['snap_name']}"


def _image_info(
    pool: str, namespace: str, header: ImageHeader, parent: str | None, used: int | None = None
) -> ImageInfo:
    return ImageInfo(
        pool=pool,
        namespace=namespace,
        name=header.name,
        id=header.id,
        size=header.size,
        used=used,
        features=feature_names(header.features),
        object_size=header.object_size,
        parent=parent,
        snapshot_count=header.snapshot_count,
        created=header.created,
    )


@dataclass(frozen=True)
class _Page:
    listing: image_cache.Listing
    rows: list[Row]
    total: int
    used: dict[str, int | None]

    @property
    def as_of(self) -> datetime:
        return datetime.fromtimestamp(self.listing.fetched_at, tz=UTC)


def _page(
    *,
    actor: Actor,
    cluster: CephCluster,
    pool: str,
    namespace: str,
    search: str,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
    with_used: bool,
    kubernetes: str,
    refresh: bool,
    prepare: image_cache.Prepare | None = None,
) -> _Page:
    if kubernetes not in KUBERNETES_FILTERS:
        raise InvalidInput(
            f"kubernetes: must be one of {', '.join(KUBERNETES_FILTERS[1:])} or empty (got {kubernetes!r}).",
            code="invalid_filter",
            extra={"field": "kubernetes"},
        )
    if sort not in SORT_KEYS:
        raise InvalidInput(
            f"sort: must be one of {', '.join(SORT_KEYS)} (got {sort!r}).", code="invalid_sort", extra={"field": "sort"}
        )
    offset, limit = max(0, int(offset)), max(0, min(int(limit), MAX_PAGE_SIZE))
    namespace = validate_namespace(namespace)
    # Access is decided for the place before any row is read, cached or not.
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.VIEWER)
    with open_ioctx(cluster, pool, namespace) as ioctx:
        listing = image_cache.listing_for(cluster, ioctx, pool, namespace, refresh=refresh, prepare=prepare)
        rows = listing.ordered(sort)
        if search:
            needle = search.lower()
            rows = [row for row in rows if needle in row[NAME].lower()]
        if kubernetes:
            used_by_kube = image_users.image_users_in(cluster, pool, namespace)
            rows = [row for row in rows if (row[NAME] in used_by_kube) == (kubernetes == "used")]
        total = len(rows)
        if descending:
            end = max(0, total - offset)
            page = rows[max(0, end - limit) : end][::-1]
        else:
            page = rows[offset : offset + limit]
        with translate_ceph_errors(cluster.name, f"listing images in {image_spec(pool, namespace, '')}"):
            for row in page:
                if row[IS_CLONE] and row[ID] not in listing.parents:
                    listing.parents[row[ID]] = _parent_spec(ioctx, row[NAME])
            used: dict[str, int | None] = {}
            if with_used:
                used = _used_of(cluster, pool, namespace, ioctx, listing, page)
    return _Page(listing, page, total, used)


# Opening the 50 images of a page one after another is a burst of CPU in the web process and the OSD that
# slowed the requests answered meanwhile; nobody waits for a re-measure, so it is spread over a second or two.
_REMEASURE_PAUSE = 0.025


def _used_of(
    cluster: CephCluster, pool: str, namespace: str, ioctx: "rados.Ioctx", listing: image_cache.Listing, page: list[Row]
) -> dict[str, int | None]:
    """What the page's images use (`rbd du`). Measuring opens each image, a few milliseconds apiece, so
    an image is measured at most once per revalidation interval: the first time it is shown, before the
    answer; after that, once its measure is older than the interval, in the background while the answer
    shows the last one (which then counts as fresh, so that only one page view starts it)."""
    now, fresh_for = time.time(), image_cache.revalidate_seconds()
    never, aged = [], []
    for row in page:
        measured = listing.used.get(row[ID])
        if measured is None:
            never.append(row)
        elif now - measured[0] >= fresh_for:
            aged.append(row)
            listing.used[row[ID]] = (now, measured[1])
    if never:
        found = usage.used_by_name(ioctx, [row[NAME] for row in never])
        for row in never:
            listing.used[row[ID]] = (now, found.get(row[NAME]))
    if aged:
        image_cache.in_background("image-usage", lambda: _measure_again(cluster, pool, namespace, listing, aged))
    return {row[NAME]: listing.used[row[ID]][1] for row in page}


def _measure_again(
    cluster: CephCluster, pool: str, namespace: str, listing: image_cache.Listing, rows: list[Row]
) -> None:
    try:
        with open_ioctx(cluster, pool, namespace) as ioctx:
            with translate_ceph_errors(cluster.name, f"measuring images in {image_spec(pool, namespace, '')}"):
                found = usage.used_by_name(ioctx, [row[NAME] for row in rows], pause=_REMEASURE_PAUSE)
    except Exception:
        # The page keeps showing the last measure; the next view after the interval tries again.
        logger.warning("Measuring the images of %s failed", image_spec(pool, namespace, ""), exc_info=True)
        return
    measured_at = time.time()
    for row in rows:
        listing.used[row[ID]] = (measured_at, found.get(row[NAME]))


def image_list(
    *,
    actor: Actor,
    cluster: CephCluster,
    pool: str,
    namespace: str = "",
    search: str = "",
    sort: str = "name",
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
    with_used: bool = False,
    kubernetes: str = "",
    refresh: bool = False,
) -> ImagePage:
    """A page of images; `with_used` also measures each image of the page (`rbd du`'s total, from
    fast-diff: a few milliseconds per image, so only for the page shown). `kubernetes`: "used" keeps the
    images a Kubernetes PersistentVolume names, "unused" the others (image_users.py). The rows come from
    the shared cache (image_cache.py): `as_of` says how old they may be; `refresh` reads them afresh."""
    found = _page(
        actor=actor, cluster=cluster, pool=pool, namespace=namespace, search=search, sort=sort,
        descending=descending, offset=offset, limit=limit, with_used=with_used, kubernetes=kubernetes, refresh=refresh,
    )  # fmt: skip
    parents = found.listing.parents
    items = [
        _image_info(pool, namespace, ImageHeader.of(row), parents.get(row[ID]), found.used.get(row[NAME]))
        for row in found.rows
    ]
    return ImagePage(total=found.total, items=items, as_of=found.as_of)


def image_list_json(
    *,
    actor: Actor,
    cluster: CephCluster,
    pool: str,
    namespace: str = "",
    search: str = "",
    sort: str = "name",
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
    with_used: bool = False,
    kubernetes: str = "",
) -> ImageRows:
    """`image_list` with each image as its JSON in the API's shape (ImageSerializer's fields). A row's
    JSON is encoded once and kept with the cached rows, so a page of 10,000 is joined rather than
    encoded; when the headers are read for this request, each is encoded while the rest are in flight."""
    zone = timezone.get_current_timezone()
    zone_key = str(zone)

    def encode(row: Row, parent: str | None = None, used: int | None = None) -> bytes:
        name, image_id, size, order, features, created, _, snapshot_count = row
        fields = {
            "pool": pool,
            "namespace": namespace,
            "name": name,
            "id": image_id,
            "size": size,
            "used": used,
            "features": _FEATURE_NAMES.get(features) or _FEATURE_NAMES.setdefault(features, feature_names(features)),
            "object_size": 1 << order,
            "parent": parent,
            "snapshot_count": snapshot_count,
            "created": None if created is None else datetime.fromtimestamp(created, tz=zone),
        }
        # Copied: the bytes orjson returns keep the 4 KiB buffer they were written into, twenty times the JSON.
        return bytes(memoryview(orjson.dumps(fields, option=orjson.OPT_UTC_Z)))

    def prepare(row: Row) -> tuple[str, bytes] | None:
        # A clone's parent is looked up for the page it is shown on, so its JSON is not kept.
        return None if row[IS_CLONE] else (zone_key, encode(row))

    found = _page(
        actor=actor, cluster=cluster, pool=pool, namespace=namespace, search=search, sort=sort,
        descending=descending, offset=offset, limit=limit, with_used=with_used, kubernetes=kubernetes, refresh=False,
        prepare=prepare,
    )  # fmt: skip
    parents, used, prepared = found.listing.parents, found.used, found.listing.prepared
    items = []
    kept_for = prepared.get
    for row in found.rows:
        if row[IS_CLONE] or with_used:
            items.append(encode(row, parents.get(row[ID]) if row[IS_CLONE] else None, used.get(row[NAME])))
            continue
        kept = kept_for(row[ID])
        # Mostly the very row the JSON was made of; a row read again since compares equal when unchanged.
        if kept is not None and (kept[0] is row or kept[0] == row) and kept[1][0] == zone_key:
            items.append(kept[1][1])
        else:
            fragment = encode(row)
            prepared[row[ID]] = (row, (zone_key, fragment))
            items.append(fragment)
    return ImageRows(total=found.total, items=items, as_of=found.as_of)


# Feature names by feature bits: a pool's images share a handful of combinations.
_FEATURE_NAMES: dict[int, list[str]] = {}


def image_get(*, actor: Actor, cluster: CephCluster, pool: str, namespace: str, name: str) -> ImageInfo:
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.VIEWER)
    spec = image_spec(pool, namespace, name)
    with open_image(cluster, pool, namespace, name, read_only=True) as image:
        with translate_ceph_errors(cluster.name, f"reading image {spec}"):
            stat = image.stat()
            features = image.features()
            try:
                created = image.create_timestamp().replace(tzinfo=UTC)
            except rbd.Error:
                created = None
            header = ImageHeader(
                name=name,
                id=image.id(),
                size=stat["size"],
                object_size=stat["obj_size"],
                features=features,
                created=created,
                is_clone=False,
                snapshot_count=sum(1 for _ in image.list_snaps()),
            )
            return _image_info(pool, namespace, header, _format_parent(image), _used_bytes(image, features))


def _used_bytes(image: "rbd.Image", features: int) -> int | None:
    """Allocated bytes, when the object map makes it a cheap metadata walk rather than a scan."""
    if not features & FEATURE_BITS["fast-diff"] or image.flags() & rbd.RBD_FLAG_FAST_DIFF_INVALID:
        return None
    used = 0

    def count(offset: int, length: int, exists: bool) -> None:
        nonlocal used
        if exists:
            used += length

    image.diff_iterate(0, image.size(), None, count, include_parent=False, whole_object=True)
    return used


def _size_message(size: int, object_size: int) -> str:
    which = "the default" if object_size == DEFAULT_OBJECT_SIZE else "this"
    shown_object = max(object_size, 4096) if object_size & (object_size - 1) == 0 else DEFAULT_OBJECT_SIZE
    return (
        f"Image size must be at least one object ({format_binary_size(shown_object)} with {which} object "
        f"size); you asked for {format_binary_size(size)}. Object sizes are powers of two from 4 KiB to 32 MiB."
    )


@audited_action(
    "storage.image.create", target=("cluster", "pool", "namespace", "name"), params=("size", "object_size", "features")
)
def image_create(
    *,
    actor: Actor,
    cluster: CephCluster,
    pool: str,
    namespace: str,
    name: str,
    size: int | str,
    object_size: int = DEFAULT_OBJECT_SIZE,
    features: str = DEFAULT_FEATURE_PRESET,
) -> ImageInfo:
    validate_object_name(name, field="name")
    namespace = validate_namespace(namespace)
    size = parse_size(size, field="size")
    object_size = parse_size(object_size, field="object_size")
    validate_feature_preset(features)
    if object_size & (object_size - 1):
        raise InvalidInput(
            f"object_size: must be a power of two from 4 KiB to 32 MiB (got {format_binary_size(object_size)}).",
            code="invalid_object_size",
            extra={"field": "object_size"},
        )
    if size < object_size:
        raise InvalidInput(_size_message(size, object_size), code="image_size_out_of_range", extra={"field": "size"})
    tenant = storage_tenancy.storage_scope(
        actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.OPERATOR
    )
    spec = image_spec(pool, namespace, name)
    with (
        storage_tenancy.quota_guard(
            tenant=tenant,
            change=storage_tenancy.ImageChange(cluster, pool, namespace, name, size=size, creates=True),
        ),
        open_ioctx(cluster, pool, namespace) as ioctx,
    ):
        # librbd answers EDOM (ArgumentOutOfRange) for an object size outside 4 KiB..32 MiB.
        with translate_ceph_errors(
            cluster.name,
            f"creating image {spec}",
            overrides={
                errno.EEXIST: Conflict(f"Image {spec} already exists.", code="image_exists", component="ceph"),
                errno.EDOM: InvalidInput(
                    _size_message(size, object_size),
                    code="image_size_out_of_range",
                    component="ceph",
                    extra={"field": "size"},
                ),
            },
        ):
            bits = _preset_bits(features)
            rbd.RBD().create(ioctx, name, size, order=object_size.bit_length() - 1, old_format=False, features=bits)
        # What was made, from its header (one read) rather than by opening the image (several): a new image
        # has no parent, no snapshots, and nothing written, which fast-diff can tell (`used` 0) and else not.
        with translate_ceph_errors(cluster.name, f"reading image {spec}"):
            rows = read_rows(cluster, ioctx, [(name, _image_id(ioctx, name))])
    if not rows:
        raise NotFoundImage(f"Image {spec} was removed right after it was created.")
    used = 0 if bits & FEATURE_BITS["fast-diff"] else None
    return _image_info(pool, namespace, ImageHeader.of(rows[0]), None, used)


def _image_id(ioctx: "rados.Ioctx", name: str) -> str:
    """A format-2 image's id, from its `rbd_id.<name>` object (a length-prefixed string)."""
    raw = ioctx.read(f"rbd_id.{name}")
    (length,) = struct.unpack_from("<I", raw)
    return str(raw[4 : 4 + length].decode())


@audited_action(
    "storage.image.resize",
    target=("cluster", "pool", "namespace", "name"),
    params=("size", "allow_shrink", "force_in_use"),
)
def image_resize(
    *,
    actor: Actor,
    cluster: CephCluster,
    pool: str,
    namespace: str,
    name: str,
    size: int | str,
    allow_shrink: bool = False,
    force_in_use: bool = False,
) -> ImageInfo:
    size = parse_size(size, field="size")
    tenant = storage_tenancy.storage_scope(
        actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.OPERATOR
    )
    spec = image_spec(pool, namespace, name)
    with open_image(cluster, pool, namespace, name) as image:
        with translate_ceph_errors(cluster.name, f"resizing image {spec}"):
            current = image.size()
            if size < current and tenant is not None:
                # Shrinking discards what is stored beyond the new size: losing data is an admin's call.
                tenancy.require_role(actor, tenant, tenancy.ADMIN)
            if size < current and not allow_shrink:
                raise InvalidInput(
                    f"Shrinking {spec} from {format_binary_size(current)} to {format_binary_size(size)} destroys "
                    "the data beyond the new size. Confirm the shrink to go ahead.",
                    code="shrink_not_confirmed",
                    extra={"field": "size", "old_size": current, "new_size": size},
                )
            if size < current:
                image_users.refuse_if_in_use(
                    actor=actor, cluster=cluster, pool=pool, namespace=namespace, name=name, doing="shrink",
                    force=force_in_use,
                )  # fmt: skip
            if size != current:
                with storage_tenancy.quota_guard(
                    tenant=tenant, change=storage_tenancy.ImageChange(cluster, pool, namespace, name, size=size)
                ):
                    image.resize(size, allow_shrink=allow_shrink)
    image_cache.image_changed(cluster=cluster, pool=pool, namespace=namespace, name=name)
    return image_get(actor=actor, cluster=cluster, pool=pool, namespace=namespace, name=name)


@audited_action(
    "storage.image.rename", target=("cluster", "pool", "namespace", "name"), params=("new_name", "force_in_use")
)
def image_rename(
    *,
    actor: Actor,
    cluster: CephCluster,
    pool: str,
    namespace: str,
    name: str,
    new_name: str,
    force_in_use: bool = False,
) -> ImageInfo:
    validate_object_name(new_name, field="new_name")
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.OPERATOR)
    image_users.refuse_if_in_use(
        actor=actor, cluster=cluster, pool=pool, namespace=namespace, name=name, doing="rename", force=force_in_use
    )
    spec = image_spec(pool, namespace, name)
    with open_ioctx(cluster, pool, namespace) as ioctx:
        with translate_ceph_errors(
            cluster.name,
            f"renaming image {spec}",
            overrides={
                errno.ENOENT: NotFoundImage(f"Image {spec} does not exist."),
                errno.EEXIST: Conflict(
                    f"Image {image_spec(pool, namespace, new_name)} already exists.",
                    code="image_exists",
                    component="ceph",
                ),
            },
        ):
            rbd.RBD().rename(ioctx, name, new_name)
    return image_get(actor=actor, cluster=cluster, pool=pool, namespace=namespace, name=new_name)


def _require_absent(cluster: CephCluster, ioctx: "rados.Ioctx", pool: str, namespace: str, name: str) -> None:
    with translate_ceph_errors(cluster.name, f"looking up image {image_spec(pool, namespace, name)}"):
        names = {entry["name"] for entry in rbd.RBD().list2(ioctx)}
    if name in names:
        raise Conflict(
            f"Image {image_spec(pool, namespace, name)} already exists.", code="image_exists", component="ceph"
        )


@audited_action(
    "storage.image.copy",
    target=("cluster", "pool", "namespace", "name"),
    params=("dest_pool", "dest_namespace", "dest_name", "snapshot"),
)
def image_copy(
    *,
    actor: Actor,
    cluster: CephCluster,
    pool: str,
    namespace: str,
    name: str,
    dest_pool: str,
    dest_namespace: str,
    dest_name: str,
    snapshot: str | None = None,
) -> BackgroundTask:
    """Copy the image, or its state at `snapshot`, to another place (in the background), the copy
    counting against the destination tenant's quota.

    Needs the operator role (or more) in the source place's tenant as well as in the
    destination's: a copy is the whole image leaving the source tenant's control, which a
    viewer's read-only access must not amount to. Platform admins may copy anywhere.
    """
    validate_object_name(dest_pool, field="dest_pool")
    dest_namespace = validate_namespace(dest_namespace, field="dest_namespace")
    validate_object_name(dest_name, field="dest_name")
    source, dest = image_spec(pool, namespace, name), image_spec(dest_pool, dest_namespace, dest_name)
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.OPERATOR)
    dest_tenant = storage_tenancy.storage_scope(
        actor=actor, cluster=cluster, pool=dest_pool, namespace=dest_namespace, role=tenancy.OPERATOR
    )
    with open_image(cluster, pool, namespace, name, read_only=True) as image:
        with translate_ceph_errors(cluster.name, f"reading the size of {source}"):
            copy_size = image.size()
            if snapshot:
                validate_object_name(snapshot, field="snapshot")
                copy_size = next((snap["size"] for snap in image.list_snaps() if snap["name"] == snapshot), -1)
    if copy_size < 0:
        raise NotFound(f"Image {source} has no snapshot {snapshot}.", code="snapshot_not_found", component="ceph")
    with open_ioctx(cluster, dest_pool, dest_namespace) as dest_ioctx:
        _require_absent(cluster, dest_ioctx, dest_pool, dest_namespace, dest_name)
    change = storage_tenancy.ImageChange(cluster, dest_pool, dest_namespace, dest_name, size=copy_size, creates=True)
    # The copy creates its image only once the task runs: a reservation holds the room until then.
    reservation = storage_tenancy.storage_reserve(tenant=dest_tenant, change=change)

    try:
        task = task_start(
            actor=actor,
            tenant=dest_tenant,
            name="storage.image.copy",
            target={"cluster": cluster.name, "image": f"{source}@{snapshot}" if snapshot else source, "dest": dest},
            arguments={
                "cluster": cluster.name,
                "pool": pool,
                "namespace": namespace,
                "name": name,
                "snapshot": snapshot,
                "dest_pool": dest_pool,
                "dest_namespace": dest_namespace,
                "dest_name": dest_name,
                "size": copy_size,
                "reservation": reservation.pk if reservation else None,
            },
        )
    except BaseException:
        storage_tenancy.storage_release(reservation)
        raise
    storage_tenancy.storage_hold_for_task(reservation, task)
    return task


def _remove_partial_copy(task: BackgroundTask) -> str:
    """A copy whose worker died leaves a partial image behind, which would hold the tenant's quota and
    block the same copy from being started again."""
    cluster = ceph_cluster_get(actor=None, name=task.arguments["cluster"])
    dest_pool, dest_namespace, dest_name = (task.arguments[key] for key in ("dest_pool", "dest_namespace", "dest_name"))
    dest = image_spec(dest_pool, dest_namespace, dest_name)
    try:
        with open_ioctx(cluster, dest_pool, dest_namespace) as ioctx:
            names = {entry["name"] for entry in rbd.RBD().list2(ioctx)}
            if dest_name not in names:
                return "No partial copy was left behind."
            with (
                open_image(cluster, dest_pool, dest_namespace, dest_name, read_only=True) as image,
                translate_ceph_errors(cluster.name, f"reading the watchers of {dest}"),
            ):
                watchers = list(image.watchers_list())
            # The dead worker's watch on its copy lasts until the OSDs time it out (30 s by default), and
            # librbd refuses to remove a watched image. Fencing the worker off is what Ceph itself does to a
            # client presumed dead; if it was only stalled, the fence also stops it writing to the copy.
            for watcher in watchers:
                mon_command(
                    cluster,
                    "osd blocklist",
                    blocklistop="add",
                    addr=watcher["addr"],
                    what=f"fencing off the stopped worker's client {watcher['addr']}",
                )
            with translate_ceph_errors(cluster.name, f"removing the partial copy {dest}"):
                rbd.RBD().remove(ioctx, dest_name)
    except BerthError as error:
        return f"The partial copy {dest} could not be removed ({error.message}); remove it with `rbd rm {dest}`."
    return f"The partial copy {dest} was removed."


@task_body("storage.image.copy", on_abandon=_remove_partial_copy)
def copy_image_in_background(
    *,
    progress: ProgressCallback,
    cluster: str,
    pool: str,
    namespace: str,
    name: str,
    dest_pool: str,
    dest_namespace: str,
    dest_name: str,
    size: int,
    reservation: int | None,
    snapshot: str | None = None,  # absent from copies queued before copies from snapshots existed
) -> dict[str, Any]:
    ceph = ceph_cluster_get(actor=None, name=cluster)
    source, dest = image_spec(pool, namespace, name), image_spec(dest_pool, dest_namespace, dest_name)
    change = storage_tenancy.ImageChange(ceph, dest_pool, dest_namespace, dest_name, size=size, creates=True)
    # The room reserved when the copy was queued, or, if that lapsed while it waited, room reserved afresh.
    queued = QuotaReservation.objects.filter(pk=reservation).first() if reservation is not None else None
    held = storage_tenancy.storage_renew(queued, change)
    try:
        progress(0, 1)  # librbd's copy in this release reports no progress of its own
        with (
            open_image(ceph, pool, namespace, name, read_only=True, snapshot=snapshot) as image,
            open_ioctx(ceph, dest_pool, dest_namespace) as dest_ioctx,
            translate_ceph_errors(
                ceph.name,
                f"copying image {source} to {dest}",
                overrides={errno.EEXIST: Conflict(f"Image {dest} already exists.", code="image_exists")},
            ),
        ):
            image.copy(dest_ioctx, dest_name)
    finally:
        storage_tenancy.storage_release(held)
    return {"image": dest}


@audited_action(
    "storage.image.delete",
    target=("cluster", "pool", "namespace", "name"),
    params=("to_trash", "protect_days", "force_in_use"),
)
def image_delete(
    *,
    actor: Actor,
    cluster: CephCluster,
    pool: str,
    namespace: str,
    name: str,
    to_trash: bool = True,
    confirm_name: str | None = None,
    protect_days: int = 0,
    force_in_use: bool = False,
) -> BackgroundTask | None:
    """To the trash (restorable, immediate) by default; removal for good runs as a task.

    `protect_days`: how long the trash entry is protected from purging (librbd's deferment end);
    until then only a forced purge removes it. 0: it may be purged at once."""
    protect_days = validate_protect_days(protect_days)
    tenant = storage_tenancy.storage_scope(
        actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.ADMIN
    )
    spec = image_spec(pool, namespace, name)
    if not to_trash:
        validate_confirmation(confirm_name, expected=name)
    image_users.refuse_if_in_use(
        actor=actor, cluster=cluster, pool=pool, namespace=namespace, name=name,
        doing="move to the trash" if to_trash else "delete", force=force_in_use,
    )  # fmt: skip
    with open_image(cluster, pool, namespace, name, read_only=True) as image:
        with translate_ceph_errors(cluster.name, f"checking image {spec}"):
            watchers = list(image.watchers_list())
            snapshots = sum(1 for _ in image.list_snaps())
    if watchers:
        raise Conflict(
            f"Image {spec} is in use by {len(watchers)} client(s) ({watchers[0]['addr']}). Unmap it "
            "(`rbd unmap`) or stop the client using it, then delete it.",
            code="image_busy",
            component="ceph",
        )
    if to_trash:
        with open_ioctx(cluster, pool, namespace) as ioctx:
            with translate_ceph_errors(cluster.name, f"moving image {spec} to the trash"):
                rbd.RBD().trash_move(ioctx, name, protect_days * 86400)
        return None
    if snapshots:
        raise Conflict(
            f"Image {spec} has {snapshots} snapshot(s). Delete its snapshots first (unprotecting "
            "any that are protected), or move the image to the trash instead.",
            code="image_has_snapshots",
            component="ceph",
        )

    return task_start(
        actor=actor,
        tenant=tenant,
        name="storage.image.delete",
        target={"cluster": cluster.name, "image": spec},
        arguments={"cluster": cluster.name, "pool": pool, "namespace": namespace, "name": name},
    )


@task_body("storage.image.delete")
def remove_image_in_background(
    *, progress: ProgressCallback, cluster: str, pool: str, namespace: str, name: str
) -> dict[str, Any]:
    ceph = ceph_cluster_get(actor=None, name=cluster)
    spec = image_spec(pool, namespace, name)
    with (
        open_ioctx(ceph, pool, namespace) as ioctx,
        translate_ceph_errors(ceph.name, f"removing image {spec}"),
    ):
        rbd.RBD().remove(ioctx, name, on_progress=progress)
    return {"image": spec}
