"""One long-lived librados connection per process and cluster.

Connecting costs a round of cephx handshakes with the monitors, so every request reuses one
`rados.Rados` handle per cluster (librados handles are thread-safe). Client-side timeouts make
a dead cluster fail a request within seconds; a connection that failed is dropped so the next
request builds a fresh one, which is how Berth recovers by itself when the monitors return.

Connecting is serialised per cluster, never across clusters, so a cluster whose monitors do not
answer holds up only its own requests; and such a failure is remembered for
BERTH_CEPH_RETRY_AFTER seconds, during which its requests fail at once instead of each waiting
the full timeout again. Changing the cluster's record (a fixed address or key) ends the wait.
"""

import errno
import json
import logging
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from dashboard.core.clusters import note_contact
from dashboard.core.errors import NotFound
from storage.models import CephCluster
from storage.services.bindings import rados, rbd, require_bindings
from storage.services.errors import (
    CONNECTION_ERRNOS,
    CephUnreachable,
    error_from_errno,
    misconfigured,
    translate_ceph_errors,
    unreachable,
)

logger = logging.getLogger(__name__)


class NotFoundPool(NotFound):
    default_code = "pool_not_found"
    component = "ceph"


class NotFoundNamespace(NotFound):
    default_code = "namespace_not_found"
    component = "ceph"


class NotFoundImage(NotFound):
    default_code = "image_not_found"
    component = "ceph"


def image_spec(pool: str, namespace: str, name: str) -> str:
    """The `rbd` CLI's way of naming an image, so messages can be pasted into a shell."""
    return f"{pool}/{namespace}/{name}" if namespace else f"{pool}/{name}"


@dataclass(frozen=True)
class _Settings:
    """What a connection was built from: when the record changes, the connection is rebuilt."""

    client_name: str
    conf_path: str
    keyring_path: str
    mon_host: str
    key_path: str

    @classmethod
    def of(cls, cluster: CephCluster) -> "_Settings":
        return cls(cluster.client_name, cluster.conf_path, cluster.keyring_path, cluster.mon_host, cluster.key_path)


@dataclass(frozen=True)
class _Failure:
    """A connect the monitors did not answer."""

    record: _Settings
    reason: str
    at: float  # time.monotonic()

    def seconds_ago(self) -> int:
        return round(time.monotonic() - self.at)

    def retry_in(self) -> int:
        return math.ceil(self.at + settings.BERTH_CEPH_RETRY_AFTER - time.monotonic())


class _NoAnswer(Exception):
    """The monitors gave no usable answer: worth remembering, unlike a refusal or a wrong record."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# Guards the dictionaries below and is never held across I/O; a connect holds only its cluster's lock.
_registry_lock = threading.Lock()
_connect_locks: dict[str, threading.Lock] = {}
_connections: dict[str, tuple[_Settings, "rados.Rados"]] = {}
_failures: dict[str, _Failure] = {}


def _timeouts() -> dict[str, str]:
    seconds = str(settings.BERTH_CEPH_TIMEOUT)
    return {
        "rados_mon_op_timeout": seconds,
        "rados_osd_op_timeout": seconds,
        "client_mount_timeout": seconds,
        # Clone format 2 is what lets a clone live in another pool's namespace (format 1 answers
        # EXDEV) and its parent be trashed; "auto" picks it only once the cluster requires mimic clients.
        "rbd_default_clone_format": "2",
    }


def _readable_file(cluster: CephCluster, path: str, what: str) -> Path:
    file = Path(path)
    whose = f"The {what} {path} for {cluster.client_name} of Ceph cluster {cluster.name}"
    if not file.exists():
        raise misconfigured(
            cluster.name,
            f"{whose} does not exist. Fix the path in the cluster's settings (Django admin → Ceph clusters).",
            code="ceph_key_missing",
        )
    if not file.is_file():
        raise misconfigured(
            cluster.name,
            f"{whose} is not a file. Fix the path in the cluster's settings (Django admin → Ceph clusters).",
            code="ceph_key_unreadable",
        )
    try:
        file.read_bytes()
    except OSError as exc:
        raise misconfigured(
            cluster.name, f"{whose} cannot be read: {exc.strerror}.", code="ceph_key_unreadable"
        ) from exc
    return file


def _build_handle(cluster: CephCluster) -> "rados.Rados":
    require_bindings()
    conf = _timeouts()
    if cluster.conf_path:
        _readable_file(cluster, cluster.conf_path, "ceph.conf")
        _readable_file(cluster, cluster.keyring_path, "keyring")
        conf["keyring"] = cluster.keyring_path
        try:
            return rados.Rados(conffile=cluster.conf_path, name=cluster.client_name, conf=conf)
        except rados.Error as exc:
            raise misconfigured(
                cluster.name,
                f"The ceph.conf {cluster.conf_path} of Ceph cluster {cluster.name} "
                f"cannot be parsed ({exc}). It should be an INI file whose [global] "
                "section names the monitors (`mon host = ...`).",
                code="ceph_conf_invalid",
            ) from exc
    key_file = _readable_file(cluster, cluster.key_path, "key file")
    conf["mon_host"] = cluster.mon_host
    conf["key"] = key_file.read_text().strip()
    # conffile=None: read no ceph.conf at all, so /etc/ceph on the Berth host cannot interfere.
    return rados.Rados(conffile=None, name=cluster.client_name, conf=conf)


def _connect(cluster: CephCluster) -> "rados.Rados":
    """A connected handle; raises _NoAnswer when the monitors did not answer (worth remembering),
    a Berth error when they answered with a refusal or the record is wrong."""
    handle = _build_handle(cluster)
    try:
        # connect()'s own timeout argument is ignored by the bindings; client_mount_timeout applies.
        handle.connect()
    except rados.Error as exc:
        _shutdown_quietly(handle)
        raise _connect_error(cluster, exc) from exc
    return handle


def _connect_error(cluster: CephCluster, exc: "rados.Error") -> Exception:
    code = abs(getattr(exc, "errno", 0) or 0)
    source = cluster.keyring_path or cluster.key_path
    if code in (errno.EACCES, errno.EPERM):
        return CephUnreachable(
            f"Ceph cluster {cluster.name} refused Berth's credentials.",
            code="ceph_auth_failed",
            operator_message=f"Ceph cluster {cluster.name} refused the key of {cluster.client_name} (from {source}). "
            f"Check that the file holds the key that `ceph auth get {cluster.client_name}` shows.",
        )
    if code == errno.EINVAL and not cluster.conf_path:
        return misconfigured(
            cluster.name,
            f"The key file {cluster.key_path} for {cluster.client_name} of Ceph cluster {cluster.name} "
            "does not hold a valid cephx key: it should contain only the base64 key that "
            f"`ceph auth print-key {cluster.client_name}` prints.",
            code="ceph_key_invalid",
        )
    if code == errno.EIO and cluster.conf_path:
        return misconfigured(
            cluster.name,
            f"librados cannot load the keyring {cluster.keyring_path} for {cluster.client_name} of Ceph cluster "
            f"{cluster.name}: it should hold a [{cluster.client_name}] section with `key = ...`, as "
            f"`ceph auth get {cluster.client_name}` prints it.",
            code="ceph_key_invalid",
        )
    if code in (errno.EINVAL, errno.ENOENT) and cluster.conf_path:
        return misconfigured(
            cluster.name,
            f"The ceph.conf {cluster.conf_path} of Ceph cluster {cluster.name} names no monitor "
            "Berth can use: its [global] section needs `mon host = ` with the monitors' addresses "
            f"(librados said: {exc}).",
            code="ceph_conf_invalid",
        )
    if code in CONNECTION_ERRNOS:
        where = cluster.mon_host or f"the monitors in {cluster.conf_path}"
        return _NoAnswer(f"no monitor at {where} answered within {settings.BERTH_CEPH_TIMEOUT} s")
    return _NoAnswer(str(exc))


def _shutdown_quietly(handle: "rados.Rados") -> None:
    # shutdown() can block while librados still waits on a dead monitor; never make a request wait for it.
    threading.Thread(target=_shutdown, args=(handle,), daemon=True).start()


def _shutdown(handle: "rados.Rados") -> None:
    try:
        handle.shutdown()
    except rados.Error:
        logger.debug("ignoring error while shutting down a failed Ceph connection", exc_info=True)


def _connect_lock(name: str) -> threading.Lock:
    with _registry_lock:
        return _connect_locks.setdefault(name, threading.Lock())


def _current_handle(name: str, wanted: _Settings) -> "rados.Rados | None":
    """The cluster's handle if it was built from these settings; one built from older ones is dropped."""
    with _registry_lock:
        existing = _connections.get(name)
        if existing is None:
            return None
        if existing[0] == wanted:
            return existing[1]
        del _connections[name]
    _shutdown_quietly(existing[1])
    return None


def _connect_unless_recently_failed(cluster: CephCluster, wanted: _Settings) -> "rados.Rados":
    with _registry_lock:
        failure = _failures.get(cluster.name)
    retry_in = failure.retry_in() if failure is not None and failure.record == wanted else 0
    if failure is not None and retry_in > 0:
        raise unreachable(cluster.name, f"{failure.reason} ({failure.seconds_ago()} s ago)", retry_in=retry_in)
    try:
        handle = _connect(cluster)
    except _NoAnswer as silence:
        with _registry_lock:
            _failures[cluster.name] = _Failure(wanted, silence.reason, time.monotonic())
        raise unreachable(cluster.name, silence.reason, retry_in=settings.BERTH_CEPH_RETRY_AFTER) from silence
    with _registry_lock:
        _failures.pop(cluster.name, None)
        _connections[cluster.name] = (wanted, handle)
    return handle


def _handle_for(cluster: CephCluster) -> "rados.Rados":
    wanted = _Settings.of(cluster)
    handle = _current_handle(cluster.name, wanted)
    if handle is not None:
        return handle
    with _connect_lock(cluster.name):
        # The request that held the lock before may have connected, or failed, meanwhile.
        handle = _current_handle(cluster.name, wanted)
        return handle if handle is not None else _connect_unless_recently_failed(cluster, wanted)


def _forget(name: str, handle: "rados.Rados") -> None:
    """Drop a handle that failed, unless another request has already replaced it."""
    with _registry_lock:
        existing = _connections.get(name)
        if existing is None or existing[1] is not handle:
            return
        del _connections[name]
    _shutdown_quietly(handle)


@contextmanager
def cluster_connection(cluster: CephCluster) -> Iterator["rados.Rados"]:
    """Yield the cluster's shared handle; on a connection-level failure, drop it so the next
    caller reconnects instead of reusing a broken handle. A block that ends without an error counts
    as the cluster's last contact."""
    handle = _handle_for(cluster)
    try:
        yield handle
    except CephUnreachable:
        _forget(cluster.name, handle)
        raise
    except (rados.Error, rbd.Error) as exc:
        if abs(getattr(exc, "errno", 0) or 0) in CONNECTION_ERRNOS:
            _forget(cluster.name, handle)
        raise
    note_contact(cluster)


def mon_command(cluster: CephCluster, prefix: str, *, what: str | None = None, **arguments: Any) -> Any:
    """Run a monitor command and return its parsed JSON answer (or its text for plain commands).

    Going through mon_command rather than helpers such as `Rados.create_pool()` matters: a
    restricted client whose caps name each allowed command can only use this path.
    """
    command = {"prefix": prefix, **arguments}
    what = what or f"`ceph {prefix}`"
    with cluster_connection(cluster) as handle:
        with translate_ceph_errors(cluster.name, what):
            code, output, status = handle.mon_command(json.dumps(command), b"")
        if code < 0:
            raise error_from_errno(cluster.name, what, code, status.strip())
    if arguments.get("format") == "json":
        return json.loads(output) if output else None
    return output.decode().strip() or status.strip()


@contextmanager
def open_ioctx(cluster: CephCluster, pool: str, namespace: str = "") -> Iterator["rados.Ioctx"]:
    """An I/O context on a pool (and RBD namespace), closed afterwards; a missing pool is a
    404 naming the pool rather than a bare ENOENT."""
    with cluster_connection(cluster) as handle:
        with translate_ceph_errors(cluster.name, f"opening pool {pool}"):
            try:
                ioctx = handle.open_ioctx(pool)
            except rados.ObjectNotFound:
                raise NotFoundPool(f"Pool {pool} does not exist on Ceph cluster {cluster.name}.") from None
        try:
            if namespace:
                with translate_ceph_errors(cluster.name, f"looking up namespace {namespace} in pool {pool}"):
                    exists = rbd.RBD().namespace_exists(ioctx, namespace)
                if not exists:
                    raise NotFoundNamespace(f"Pool {pool} has no RBD namespace {namespace}.")
            ioctx.set_namespace(namespace)
            yield ioctx
        finally:
            ioctx.close()


@contextmanager
def open_image(
    cluster: CephCluster, pool: str, namespace: str, name: str, *, read_only: bool = False, snapshot: str | None = None
) -> Iterator["rbd.Image"]:
    """An open image (at `snapshot`, if given), closed afterwards; a missing image is a 404 naming it."""
    spec = image_spec(pool, namespace, name)
    with open_ioctx(cluster, pool, namespace) as ioctx:
        with translate_ceph_errors(
            cluster.name,
            f"opening image {spec}",
            overrides={errno.ENOENT: NotFoundImage(f"Image {spec} does not exist.")},
        ):
            image = rbd.Image(ioctx, name, snapshot=snapshot, read_only=read_only)
        try:
            yield image
        finally:
            image.close()
