"""Reading RBD image headers without opening the images.

What `rbd ls -l` learns by opening each image (~4 ms apiece) is in each format-2 image's header
object: one pipelined RADOS read of a few omap keys per image (~0.1 ms apiece when all are in
flight). Listing and tenant usage both read headers this way.

A header becomes one plain tuple (`Row`): listing 50,000 images builds 50,000 of them, and any
per-row object or method call beyond that shows up next to the reads themselves.
"""

import errno
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from storage.models import CephCluster
from storage.services.bindings import rados
from storage.services.errors import error_from_errno

# Header reads in flight at most: enough to hide the round trips, bounded so memory stays small. The
# oldest quarter is collected whenever the window is full, so the OSD never runs out of reads to serve.
_READ_WINDOW = 4096
_COLLECTED_AT_ONCE = _READ_WINDOW // 4
# A paced read (a re-read nobody waits for) sends small batches between pauses, so that the OSD and this
# process never spend more than a short burst on it while requests are being answered.
_PACED_WINDOW = 128
_DIRECTORY = "rbd_directory"
_DIRECTORY_NAME_KEY = "name_"
# The OSD answers at most osd_max_omap_entries_per_request keys a read (1,024 unless changed); a page that
# comes back empty ends the listing, so a cluster set lower than this loses nothing.
_DIRECTORY_PAGE = 1024
_U32 = struct.Struct("<I").unpack_from
_HEADER_KEYS = ("size", "order", "features", "create_timestamp", "parent", "snap_seq")
# `snap_seq` of an image that never had a snapshot: eight zero bytes.
_NO_SNAPSHOT_EVER = bytes(8)
_MAX_SNAPSHOTS_COUNTED = 4096
_U64 = struct.Struct("<Q").unpack_from
_UTIME = struct.Struct("<II").unpack_from

FEATURE_BITS = {
    "layering": 1 << 0,
    "striping": 1 << 1,
    "exclusive-lock": 1 << 2,
    "object-map": 1 << 3,
    "fast-diff": 1 << 4,
    "deep-flatten": 1 << 5,
    "journaling": 1 << 6,
    "data-pool": 1 << 7,
    "operations": 1 << 8,
    "migrating": 1 << 9,
    "non-primary": 1 << 10,
}

# (name, id, size, object size order, feature bits, created as Unix seconds or None, is a clone, snapshots)
Row = tuple[str, str, int, int, int, float | None, bool, int]
NAME: Final = 0
ID: Final = 1
SIZE: Final = 2
ORDER: Final = 3
FEATURES: Final = 4
CREATED: Final = 5
IS_CLONE: Final = 6
SNAPSHOTS: Final = 7


# (name, id, read op, its omap values, completion), all from the bindings but the names
_InFlight = tuple[str, str, Any, Any, Any]


def feature_names(bits: int) -> list[str]:
    return [name for name, bit in FEATURE_BITS.items() if bits & bit]


@dataclass(frozen=True)
class ImageHeader:
    name: str
    id: str
    size: int
    object_size: int
    features: int
    created: datetime | None
    is_clone: bool
    snapshot_count: int

    @classmethod
    def of(cls, row: Row) -> "ImageHeader":
        return cls(
            name=row[NAME],
            id=row[ID],
            size=row[SIZE],
            object_size=1 << row[ORDER],
            features=row[FEATURES],
            created=created_at(row[CREATED]),
            is_clone=row[IS_CLONE],
            snapshot_count=row[SNAPSHOTS],
        )


def created_at(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)


def read_directory(cluster: CephCluster, ioctx: "rados.Ioctx") -> tuple[int, Iterator[tuple[str, str]]]:
    """The version of the place's image directory (which every add, remove and rename bumps; 0 for a
    place that never had an image) and the (name, id) of its every image, in name order, as they come.

    The directory's `name_<image>` omap keys are read directly, a page per read: what `rbd_list2` gets
    from cls_rbd's `dir_list`, without its extra read for format-1 images, which have no header for
    Berth to read. The first page is read at once and gives the version: a change landing during a later
    page is then seen as a change by the next list. Each later page is asked for as the one before it is
    handed out, so it arrives while the caller's reads for that one are in flight."""
    with rados.ReadOpCtx() as op:
        values, _ = ioctx.get_omap_vals(op, "", _DIRECTORY_NAME_KEY, _DIRECTORY_PAGE)
        try:
            ioctx.operate_read_op(op, _DIRECTORY)
        except rados.ObjectNotFound:
            return 0, iter(())
        version = int(ioctx.get_last_version())
        first = _directory_page(values)
    return version, _directory_entries(cluster, ioctx, first)


def _directory_page(values: Iterable[tuple[str, bytes]]) -> list[tuple[str, str]]:
    # Each value is the image id as Ceph encodes a string: its length (u32) first.
    start = len(_DIRECTORY_NAME_KEY)
    return [(key[start:], value[4 : 4 + _U32(value)[0]].decode()) for key, value in values]


def _directory_entries(
    cluster: CephCluster, ioctx: "rados.Ioctx", page: list[tuple[str, str]]
) -> Iterator[tuple[str, str]]:
    # A page that comes back empty ends the directory.
    while page:
        op = ioctx.create_read_op()
        values, _ = ioctx.get_omap_vals(op, _DIRECTORY_NAME_KEY + page[-1][0], _DIRECTORY_NAME_KEY, _DIRECTORY_PAGE)
        completion = ioctx.operate_aio_read_op(op, _DIRECTORY)
        try:
            yield from page
            completion.wait_for_complete()
            code = completion.get_return_value()
            if code == -errno.ENOENT:  # the place was removed meanwhile
                return
            if code < 0:
                raise error_from_errno(cluster.name, "reading the image directory", code)
            page = _directory_page(values)
        finally:
            # Also when the caller stops early: the answer must have landed before its buffers are freed.
            completion.wait_for_complete()
            ioctx.release_read_op(op)


def read_rows(
    cluster: CephCluster,
    ioctx: "rados.Ioctx",
    entries: Iterable[tuple[str, str]],
    *,
    on_collected: Callable[[list[Row]], None] | None = None,
    per_second: int | None = None,
) -> list[Row]:
    """Header rows of the given (name, id) images, in order; images that vanished are left out. Reads start
    while `entries` is still being produced. `on_collected` gets the rows collected so far while the
    remaining reads are in flight: work done there is hidden behind the OSD's answers. `per_second`: read
    no faster than that, in small batches (as fast as the OSD answers otherwise).

    Snapshots are counted in a second pass, only for images whose `snap_seq` shows they ever had one:
    iterating an empty omap answer still costs ~10 us in the bindings, a tenth of a whole header read."""
    rows: list[Row] = []
    had_snapshots: list[int] = []
    # Bound once: this loop runs once per image, and its cost is mostly calls into the bindings.
    create_read_op, get_keys, operate = ioctx.create_read_op, ioctx.get_omap_vals_by_keys, ioctx.operate_aio_read_op
    window, at_once = (_READ_WINDOW, _COLLECTED_AT_ONCE) if per_second is None else (_PACED_WINDOW, _PACED_WINDOW)
    pace = _Pace(per_second)
    in_flight: list[_InFlight] = []
    try:
        for name, image_id in entries:
            op = create_read_op()
            values, _ = get_keys(op, _HEADER_KEYS)
            in_flight.append((name, image_id, op, values, operate(op, "rbd_header." + image_id)))
            if len(in_flight) >= window:
                collected, oldest = len(rows), in_flight[:at_once]
                del in_flight[:at_once]
                _collect(cluster, ioctx, oldest, rows, had_snapshots)
                if on_collected is not None:
                    on_collected(rows[collected:])
                pace.read(len(oldest))
        collected, oldest, in_flight = len(rows), in_flight, []
        _collect(cluster, ioctx, oldest, rows, had_snapshots)
    except BaseException:
        # Reads still in flight write into their ops' buffers: wait for each before freeing it.
        for *_, op, _values, completion in in_flight:
            completion.wait_for_complete()
            ioctx.release_read_op(op)
        raise
    if on_collected is not None:
        on_collected(rows[collected:])
    for start in range(0, len(had_snapshots), window):
        batch = had_snapshots[start : start + window]
        _count_snapshots(ioctx, rows, batch)
        pace.read(len(batch))
    return rows


class _Pace:
    """Sleeps as long as reads run ahead of `per_second` (never, when that is None)."""

    def __init__(self, per_second: int | None) -> None:
        self.per_second = per_second
        self.started = time.monotonic()
        self.done = 0

    def read(self, count: int) -> None:
        if self.per_second is None:
            return
        self.done += count
        ahead = self.started + self.done / self.per_second - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)


def _collect(
    cluster: CephCluster, ioctx: "rados.Ioctx", in_flight: list[_InFlight], rows: list[Row], had_snapshots: list[int]
) -> None:
    """Wait for each read and turn its answer into a row; every op is released, and the first failed read
    (other than an image gone meanwhile) is raised once all have landed."""
    append, release_read_op = rows.append, ioctx.release_read_op
    failed: Exception | None = None
    for name, image_id, op, values, completion in in_flight:
        completion.wait_for_complete()
        try:
            header = dict(values)
            size = header.get("size")
            if size is None:
                # A failed read leaves no values: gone (ENOENT) drops the image, any other error is one.
                code = completion.get_return_value()
                if code < 0 and code != -errno.ENOENT and failed is None:
                    failed = error_from_errno(cluster.name, f"reading the header of image {name}", code)
                continue
            features = header.get("features")
            created = header.get("create_timestamp")
            if created is not None and len(created) >= 8:
                seconds, nanoseconds = _UTIME(created)
                created = seconds + nanoseconds / 1e9
            else:
                created = None
            if header.get("snap_seq", _NO_SNAPSHOT_EVER) != _NO_SNAPSHOT_EVER:
                had_snapshots.append(len(rows))
            append(
                (
                    name,
                    image_id,
                    _U64(size)[0],
                    header["order"][0],
                    0 if features is None else _U64(features)[0],
                    created,
                    "parent" in header,
                    0,
                )
            )
        finally:
            release_read_op(op)
    if failed is not None:
        raise failed


def _count_snapshots(ioctx: "rados.Ioctx", rows: list[Row], positions: list[int]) -> None:
    """Fill in the snapshot counts of rows[position] (one pipelined read of `snapshot_*` keys each); an image
    removed since its header was read keeps 0."""
    in_flight = []
    for position in positions:
        op = ioctx.create_read_op()
        keys, _ = ioctx.get_omap_vals(op, "", "snapshot_", _MAX_SNAPSHOTS_COUNTED)
        in_flight.append((position, op, keys, ioctx.operate_aio_read_op(op, "rbd_header." + rows[position][ID])))
    for position, op, keys, completion in in_flight:
        completion.wait_for_complete()
        try:
            rows[position] = (*rows[position][:SNAPSHOTS], sum(1 for _ in keys))
        finally:
            ioctx.release_read_op(op)


def read_headers(cluster: CephCluster, ioctx: "rados.Ioctx", entries: list[tuple[str, str]]) -> list[ImageHeader]:
    """Headers of the given (name, id) images, in order; images that vanished are left out."""
    return [ImageHeader.of(row) for row in read_rows(cluster, ioctx, entries)]
