"""Reading RBD image headers without opening the images.

What `rbd ls -l` learns by opening each image (~4 ms apiece) is in each format-2 image's header
object: one pipelined RADOS read of a few omap keys per image (~0.1 ms apiece when all are in
flight). Listing and tenant usage both read headers this way.
"""

import errno
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

from storage.models import CephCluster
from storage.services.bindings import rados
from storage.services.errors import error_from_errno

# Header reads in flight at once: enough to hide the round trips, bounded so memory stays small.
_READ_WINDOW = 1024
_HEADER_KEYS = ("size", "order", "features", "create_timestamp", "parent")
_MAX_SNAPSHOTS_COUNTED = 4096

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


def _utime(raw: bytes | None) -> datetime | None:
    if not raw or len(raw) < 8:
        return None
    seconds, nanoseconds = struct.unpack("<II", raw[:8])
    return datetime.fromtimestamp(seconds + nanoseconds / 1e9, tz=UTC)


def read_headers(cluster: CephCluster, ioctx: "rados.Ioctx", entries: list[tuple[str, str]]) -> list[ImageHeader]:
    """Headers of the given (name, id) images, in order; images that vanished are left out."""
    headers: list[ImageHeader] = []
    for start in range(0, len(entries), _READ_WINDOW):
        in_flight = []
        for name, image_id in entries[start : start + _READ_WINDOW]:
            op = ioctx.create_read_op()
            values, _ = ioctx.get_omap_vals_by_keys(op, _HEADER_KEYS)
            snapshots, _ = ioctx.get_omap_vals(op, "", "snapshot_", _MAX_SNAPSHOTS_COUNTED)
            completion = ioctx.operate_aio_read_op(op, f"rbd_header.{image_id}")
            in_flight.append((name, image_id, op, values, snapshots, completion))
        for name, image_id, op, values, snapshots, completion in in_flight:
            completion.wait_for_complete()
            code = completion.get_return_value()
            try:
                if code == -errno.ENOENT:
                    continue
                if code < 0:
                    raise error_from_errno(cluster.name, f"reading the header of image {name}", code)
                header = dict(values)
                if "size" not in header:
                    continue
                headers.append(
                    ImageHeader(
                        name=name,
                        id=image_id,
                        size=struct.unpack("<Q", header["size"][:8])[0],
                        object_size=1 << header["order"][0],
                        features=struct.unpack("<Q", header["features"][:8])[0] if "features" in header else 0,
                        created=_utime(header.get("create_timestamp")),
                        is_clone="parent" in header,
                        snapshot_count=sum(1 for _ in snapshots),
                    )
                )
            finally:
                ioctx.release_read_op(op)
    return headers
