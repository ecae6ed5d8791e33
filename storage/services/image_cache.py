"""Header rows of every image of a (cluster, pool, RBD namespace), shared by all of Berth's processes.

Reading every header of a 10,000-image pool takes about half a second; sorting the pool by size or
creation needs all of them. The rows are kept in Django's cache (the database's, CACHES) under one
generation, and each process keeps the generations it used decoded in memory (at most
BERTH_IMAGE_LIST_MEMORY_ROWS rows, least recently used dropped first). A list costs one small cache
read (the current generation) and one stat of the `rbd_directory` object:

- Added, removed and renamed images, by anyone (Berth, the `rbd` CLI, ceph-csi), change that
  object's version: the directory is read again and only the new images' headers are read.
- Berth's own changes that leave the directory alone (resize, snapshots, flatten, features) re-read
  that one header and publish a new generation (`image_changed`).
- Changes made elsewhere that leave the directory alone (a resize with the `rbd` CLI) show once the
  rows are re-read in full: a list served from rows older than BERTH_IMAGE_LIST_REVALIDATE seconds
  asks for that and answers from the old rows meanwhile, saying how old they are. The re-read is a
  periodic job (`storage.image_lists.revalidate`, every BERTH_IMAGE_LIST_REVALIDATE seconds), so it runs
  in a task worker: in a web process it would hold the interpreter lock for half a second of every
  interval while that process answers requests. A change made elsewhere shows within two intervals.

Which images a user may see is decided before the cache is consulted (storage_scope on the place),
exactly as without it: the cache holds whole places and answers only for places already allowed.
"""

import functools
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.signals import request_finished, request_started
from django.db import connection
from django.dispatch import receiver

from dashboard.core.errors import BerthError
from dashboard.tasks.scheduler import periodic
from dashboard.tasks.services import ProgressCallback
from storage.models import CephCluster
from storage.services.bindings import rados
from storage.services.connection import image_spec, open_ioctx
from storage.services.errors import translate_ceph_errors
from storage.services.headers import CREATED, ID, NAME, SIZE, Row, read_directory, read_rows

logger = logging.getLogger(__name__)

Place = tuple[int, str, str]
Prepare = Callable[[Row], Any]
# Rows are shared for a day at most: a place nobody lists any more leaves the cache table by itself.
_SHARED_SECONDS = 86400
_EPOCH_BEFORE_ALL = float("-inf")
_SORT_KEYS = {
    "name": lambda row: row[NAME],
    "size": lambda row: (row[SIZE], row[NAME]),
    "created": lambda row: (_EPOCH_BEFORE_ALL if row[CREATED] is None else row[CREATED], row[NAME]),
}


@dataclass
class Listing:
    """Every image of one place, as of `fetched_at` (Unix time of the last full read) at the oldest."""

    generation: str
    directory_version: int
    fetched_at: float
    rows: list[Row]
    # Kept by the process only, for this generation: orderings, clones' parents, measured use (by image id,
    # with when it was measured; carried to the place's next generation like `prepared`), and whether it is
    # still being written to the shared cache.
    pending: bool = field(default=False, repr=False)
    _orders: dict[str, list[Row]] = field(default_factory=dict, repr=False)
    parents: dict[str, str | None] = field(default_factory=dict, repr=False)
    used: dict[str, tuple[float, int | None]] = field(default_factory=dict, repr=False)
    # What a service derived from a row (the API's JSON of it), by image id with the row it came from: valid
    # while the image's row is that row. Carried from generation to generation of the place in this process.
    prepared: dict[str, tuple[Row, Any]] = field(default_factory=dict, repr=False)

    def ordered(self, sort: str) -> list[Row]:
        """The rows in ascending order of `sort`, ties by name (computed once per generation)."""
        found = self._orders.get(sort)
        if found is None:
            found = self._orders[sort] = sorted(self.rows, key=_SORT_KEYS[sort])
        return found

    def shared(self) -> tuple[str, int, float, list[Row]]:
        return (self.generation, self.directory_version, self.fetched_at, self.rows)


_lock = threading.Lock()
_memory: "OrderedDict[Place, Listing]" = OrderedDict()
# When this process last asked for each place to be re-read.
_asked: dict[Place, float] = {}
_threads: set[threading.Thread] = set()


def in_background(name: str, work: Callable[[], None]) -> None:
    """Run `work` in a thread of this process that wait_for_revalidation waits for; it closes its own
    database connection when done."""

    def run() -> None:
        try:
            work()
        finally:
            with _lock:
                _threads.discard(thread)
            connection.close()

    thread = threading.Thread(target=run, name=name, daemon=True)
    with _lock:
        _threads.add(thread)
    thread.start()


def revalidate_seconds() -> int:
    return settings.BERTH_IMAGE_LIST_REVALIDATE


def _keys(place: Place) -> tuple[str, str]:
    cluster_id, pool, namespace = place
    base = f"berth:image-rows:{cluster_id}:{pool}:{namespace}"
    return f"{base}:generation", f"{base}:rows"


def _carried(by_id: dict[str, Any], rows: list[Row]) -> dict[str, Any]:
    """`by_id` for the next generation: removed images leave their entries behind, swept once they are as
    many as the rows, which keeps the cost of sweeping rare."""
    if len(by_id) <= 2 * len(rows):
        return by_id
    return {row[ID]: kept for row in rows if (kept := by_id.get(row[ID])) is not None}


def _remember(place: Place, listing: Listing) -> None:
    budget = settings.BERTH_IMAGE_LIST_MEMORY_ROWS
    with _lock:
        replaced = _memory.pop(place, None)
        if replaced is not None:
            if not listing.prepared:
                listing.prepared = _carried(replaced.prepared, listing.rows)
            if not listing.used:
                listing.used = _carried(replaced.used, listing.rows)
        if len(listing.rows) > budget:
            return
        _memory[place] = listing
        held = sum(len(kept.rows) for kept in _memory.values())
        while held > budget:
            _, dropped = _memory.popitem(last=False)
            held -= len(dropped.rows)


def _current(place: Place) -> Listing | None:
    """The place's rows at the shared generation, from memory when this process holds that generation."""
    generation_key, rows_key = _keys(place)
    cache = caches["default"]
    generation = cache.get(generation_key)
    with _lock:
        held = _memory.get(place)
        # A first read this process is still sharing is newer than whatever the cache holds meanwhile.
        if held is not None and (held.pending or held.generation == generation):
            _memory.move_to_end(place)
            return held
    stored = None if generation is None else cache.get(rows_key)
    if stored is None or stored[0] != generation:
        return None
    listing = Listing(*stored)
    _remember(place, listing)
    return listing


def _publish(place: Place, listing: Listing, *, replacing: str | None) -> bool:
    """Share `listing` as the place's new generation, unless the generation it was derived from
    (`replacing`) has meanwhile been replaced by another change: then this process uses it for the
    request at hand only, and the next list starts from the newer generation."""
    generation_key, rows_key = _keys(place)
    cache = caches["default"]
    listing.generation = listing.generation if listing.pending else uuid.uuid4().hex
    if replacing is not None and cache.get(generation_key) != replacing:
        return False
    cache.set(rows_key, listing.shared(), _SHARED_SECONDS)
    cache.set(generation_key, listing.generation, _SHARED_SECONDS)
    _remember(place, listing)
    return True


# A first read made while serving a request is shared once its response has been sent: pickling 10,000 rows
# holds the interpreter lock, and would otherwise slow the building of that response by a few percent.
_serving = threading.local()
_held: set[threading.Event] = set()
# How long a share waits for a response that is never closed.
_HELD_AT_MOST = 5.0


@receiver(request_started)
def _serving_a_request(**kwargs: Any) -> None:
    _serving.held = []


@receiver(request_finished)
def _response_sent(**kwargs: Any) -> None:
    for release in getattr(_serving, "held", None) or ():
        release.set()
    _serving.held = None


def _publish_soon(place: Place, listing: Listing) -> None:
    """Share a first read from a thread, after the response of the request that read it (if any) has
    been sent; this process uses it already."""
    listing.generation, listing.pending = uuid.uuid4().hex, True
    _remember(place, listing)
    release = threading.Event()
    held = getattr(_serving, "held", None)
    if held is None:
        release.set()
    else:
        held.append(release)
        with _lock:
            _held.add(release)

    def publish() -> None:
        try:
            release.wait(_HELD_AT_MOST)
            with _lock:
                _held.discard(release)
            _publish(place, listing, replacing=None)
        except Exception:
            logger.warning("Sharing the images of %s failed", image_spec(place[1], place[2], ""), exc_info=True)
        finally:
            listing.pending = False

    in_background("image-list-publish", publish)


def directory_version(ioctx: "rados.Ioctx") -> int:
    """The version of the place's image directory, which every add, remove and rename bumps."""
    try:
        ioctx.stat("rbd_directory")
    except rados.ObjectNotFound:
        return 0
    return int(ioctx.get_last_version())


def _read_all(
    cluster: CephCluster, ioctx: "rados.Ioctx", prepare: Prepare | None = None, per_second: int | None = None
) -> Listing:
    # Stamped before reading: a change landing during the read is at most this old when shown.
    fetched_at = time.time()
    version, entries = read_directory(cluster, ioctx)
    prepared: dict[str, tuple[Row, Any]] = {}
    on_collected = None if prepare is None else functools.partial(_prepare_rows, prepare, prepared)
    rows = read_rows(cluster, ioctx, entries, on_collected=on_collected, per_second=per_second)
    return Listing("", version, fetched_at, rows, prepared=prepared)


def _prepare_rows(prepare: Prepare, prepared: dict[str, tuple[Row, Any]], rows: list[Row]) -> None:
    for row in rows:
        derived = prepare(row)
        if derived is not None:
            prepared[row[ID]] = (row, derived)


def _catch_up(cluster: CephCluster, ioctx: "rados.Ioctx", listing: Listing) -> Listing:
    """The directory changed: keep the rows of images still there under the same name and id, read
    the headers of the others."""
    version, entries = read_directory(cluster, ioctx)
    known = {(row[NAME], row[ID]): row for row in listing.rows}
    rows, missing = [], []
    for entry in entries:
        row = known.get(entry)
        if row is None:
            missing.append(entry)
        else:
            rows.append(row)
    rows.extend(read_rows(cluster, ioctx, missing))
    return Listing("", version, listing.fetched_at, rows)


def listing_for(
    cluster: CephCluster,
    ioctx: "rados.Ioctx",
    pool: str,
    namespace: str,
    *,
    refresh: bool = False,
    prepare: Prepare | None = None,
) -> Listing:
    """Every image of the place (whose access the caller has checked), from the cache when it can be.
    `refresh` reads every header now, as an operator's Refresh asks. When the headers are read now,
    `prepare` derives what the caller will want of each row (kept in `prepared`) while the reads are in
    flight, where the work costs no time; a row it returns None for is left to the caller."""
    with translate_ceph_errors(cluster.name, f"listing images in {image_spec(pool, namespace, '')}"):
        if revalidate_seconds() <= 0:
            return _read_all(cluster, ioctx, prepare)
        place = (cluster.pk, pool, namespace)
        listing = None if refresh else _current(place)
        if listing is None:
            listing = _read_all(cluster, ioctx, prepare)
            _publish_soon(place, listing)
            return listing
        version = directory_version(ioctx)
        if version != listing.directory_version:
            caught_up = _catch_up(cluster, ioctx, listing)
            _publish(place, caught_up, replacing=listing.generation)
            listing = caught_up
        if time.time() - listing.fetched_at > revalidate_seconds():
            _ask_for_revalidation(place)
        return listing


def revalidate(*, cluster: CephCluster, pool: str, namespace: str) -> None:
    """Read every header of the place again and share the result, unless a change by Berth was
    published meanwhile (its row would be older in this read; a list an interval later asks again).
    Nobody waits for it: it reads at BERTH_IMAGE_LIST_REREAD_RATE headers a second at most."""
    place = (cluster.pk, pool, namespace)
    before = caches["default"].get(_keys(place)[0])
    with open_ioctx(cluster, pool, namespace) as ioctx:
        with translate_ceph_errors(cluster.name, f"listing images in {image_spec(pool, namespace, '')}"):
            listing = _read_all(cluster, ioctx, per_second=settings.BERTH_IMAGE_LIST_REREAD_RATE or None)
    _publish(place, listing, replacing=before)


# The places whose rows a list found older than the interval: {place: when asked}, read by the job.
_WANTED_KEY = "berth:image-rows:wanted"


def _ask_for_revalidation(place: Place) -> None:
    """Once an interval per process and place: two processes asking at the same moment may lose one mark
    (the cache has no atomic update of a dict), which only puts the re-read off until either asks again."""
    now = time.time()
    with _lock:
        if now - _asked.get(place, _EPOCH_BEFORE_ALL) < revalidate_seconds():
            return
        _asked[place] = now
    cache = caches["default"]
    wanted = cache.get(_WANTED_KEY) or {}
    wanted[place] = now
    cache.set(_WANTED_KEY, wanted, _SHARED_SECONDS)


@periodic(
    "storage.image_lists.revalidate",
    # With the cache off (an interval of 0) nothing is ever asked for; a daily look costs nothing.
    every=lambda: timedelta(seconds=revalidate_seconds() if revalidate_seconds() > 0 else 86400),
    description="Re-read every header of the image lists shown from rows older than the interval",
    audit_runs=False,
)
def image_lists_revalidate(*, progress: ProgressCallback) -> dict[str, Any]:
    """A place whose cluster or pool is gone or does not answer keeps its old rows (shown with their age)
    and is re-read when a list asks again; it does not fail the run for the other places."""
    cache = caches["default"]
    wanted = cache.get(_WANTED_KEY) or {}
    cache.delete(_WANTED_KEY)
    clusters = CephCluster.objects.in_bulk({cluster_id for cluster_id, _, _ in wanted})
    skipped = []
    for done, (cluster_id, pool, namespace) in enumerate(wanted):
        cluster = clusters.get(cluster_id)
        try:
            if cluster is not None:
                revalidate(cluster=cluster, pool=pool, namespace=namespace)
        except BerthError as error:
            skipped.append(f"{image_spec(pool, namespace, '')}: {error.message}")
        progress(done + 1, len(wanted))
    return {"places": len(wanted), "skipped": skipped}


def wait_for_revalidation(timeout: float = 30) -> None:
    """Block until this process's background reads and writes are done (for tests and benchmarks)."""
    with _lock:
        for release in _held:
            release.set()
        running = list(_threads)
    for thread in running:
        thread.join(timeout)


def image_changed(*, cluster: CephCluster, pool: str, namespace: str, name: str) -> None:
    """Berth changed the image's header (size, snapshots, parent, features): re-read that one row so
    the next list shows it. Adds, removes and renames need nothing: the directory's version shows them.
    The change itself is done by then, so a failure here must not report it as failed: the place's
    rows are dropped instead, and the next list reads them afresh."""
    if revalidate_seconds() <= 0:
        return
    try:
        if _patch(cluster, pool, namespace, name):
            return
    except Exception:
        logger.warning("Updating the cached row of %s failed", image_spec(pool, namespace, name), exc_info=True)
    forget_everywhere(cluster=cluster, pool=pool, namespace=namespace)


def _patch(cluster: CephCluster, pool: str, namespace: str, name: str) -> bool:
    place = (cluster.pk, pool, namespace)
    # Another change published between reading the generation and writing ours: start again from it.
    for _ in range(3):
        listing = _current(place)
        if listing is None:
            return True
        position = next((index for index, row in enumerate(listing.rows) if row[NAME] == name), None)
        if position is None:
            return True
        rows = list(listing.rows)
        with open_ioctx(cluster, pool, namespace) as ioctx:
            with translate_ceph_errors(cluster.name, f"reading image {image_spec(pool, namespace, name)}"):
                fresh = read_rows(cluster, ioctx, [(name, rows[position][ID])])
        if fresh:
            rows[position] = fresh[0]
        else:
            del rows[position]
        if _publish(
            place, Listing("", listing.directory_version, listing.fetched_at, rows), replacing=listing.generation
        ):
            return True
    return False


def forget_everywhere(*, cluster: CephCluster, pool: str, namespace: str) -> None:
    """Drop the place's shared rows: the next list reads every header again."""
    place = (cluster.pk, pool, namespace)
    caches["default"].delete(_keys(place)[0])
    forget(place)


def forget(*places: Place) -> None:
    """Drop what this process holds (tests use it to act as a fresh process)."""
    with _lock:
        if places:
            for place in places:
                _memory.pop(place, None)
        else:
            _memory.clear()
