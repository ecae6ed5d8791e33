"""Translation of Ceph binding errors into Berth errors an operator can act on."""

import errno
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from dashboard.core.errors import (
    BerthError,
    Conflict,
    InvalidInput,
    NotConfigured,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    ServiceUnavailable,
)
from storage.services.bindings import rados, rbd

# Errors after which the connection itself is suspect: drop it and build a new one next time.
CONNECTION_ERRNOS = {errno.ETIMEDOUT, errno.ESHUTDOWN, errno.ENOTCONN, errno.ECONNREFUSED, errno.EINTR}


class CephUnreachable(ServiceUnavailable):
    default_code = "ceph_unreachable"
    component = "ceph"


def unreachable(cluster_name: str, reason: str, *, retry_in: int = 0) -> CephUnreachable:
    """`reason` names monitor addresses or files on the Berth host: platform admins only see it."""
    retry = f" Berth tries again in {retry_in} s." if retry_in > 0 else ""
    return CephUnreachable(
        f"Ceph cluster {cluster_name} is unreachable.{retry}",
        operator_message=f"Ceph cluster {cluster_name} is unreachable: {reason}.{retry}",
    )


def misconfigured(cluster_name: str, problem: str, *, code: str) -> NotConfigured:
    """`problem` says which file on the Berth host to fix and how: platform admins only see it."""
    return NotConfigured(
        f"Ceph cluster {cluster_name} is not set up correctly in Berth.",
        operator_message=problem,
        code=code,
        component="ceph",
    )


# Capabilities a client needs for what Berth does; named in permission errors so the operator can
# fix the client with one `ceph auth caps` instead of guessing.
REQUIRED_CAPS = (
    'mon \'profile rbd, allow command "osd pool create", allow command "osd pool delete", '
    'allow command "osd pool set", allow command "osd pool set-quota", '
    'allow command "osd pool application enable"\' '
    "osd 'profile rbd' mgr 'profile rbd'"
)


def error_from_errno(
    cluster_name: str, what: str, code: int, ceph_message: str = "", *, caps: str = REQUIRED_CAPS
) -> BerthError:
    """Map a negative (librados style) or positive errno from a Ceph call to a Berth error."""
    code = abs(code)
    said = f": {ceph_message}" if ceph_message else ""
    if code in (errno.ETIMEDOUT, errno.EINTR):
        return unreachable(cluster_name, f"{what} got no answer in time{said}")
    if code in (errno.EACCES, errno.EPERM):
        return PermissionDenied(
            f"Ceph cluster {cluster_name} refused {what}{said}. Berth's cephx client lacks the capability "
            f"for it; it needs at least {caps} (compare with `ceph auth get <client>`).",
            code="ceph_permission_denied",
            component="ceph",
        )
    if code == errno.ENOENT:
        return NotFound(f"{what} failed: not found{said}", component="ceph")
    if code == errno.EEXIST:
        return Conflict(f"{what} failed: it already exists{said}", code="already_exists", component="ceph")
    if code == errno.EBUSY:
        return Conflict(
            f"{what} failed: it is in use (an open or mapped image has watchers). "
            f"Unmap it (`rbd unmap`) or stop the client using it, then retry{said}",
            code="busy",
            component="ceph",
        )
    if code == errno.ENOTEMPTY:
        return Conflict(
            f"{what} failed: it still has snapshots or children. Delete its snapshots "
            f"(or flatten its clones) first{said}",
            code="not_empty",
            component="ceph",
        )
    if code in (errno.EDQUOT, errno.ENOSPC):
        return QuotaExceeded(
            f"{what} failed: the pool's quota or the cluster's capacity is exhausted. "
            f"Raise the pool quota or free space, then retry{said}",
            component="ceph",
        )
    if code in (errno.EINVAL, errno.EDOM, errno.ERANGE):
        return InvalidInput(
            f"{what} failed: Ceph rejected the arguments as invalid or out of range{said}",
            code="ceph_invalid_argument",
            component="ceph",
        )
    if code == errno.EROFS:
        return Conflict(
            f"{what} failed: the image is read-only (a snapshot or a non-primary mirror){said}",
            code="read_only",
            component="ceph",
        )
    return BerthError(
        f"{what} failed on Ceph cluster {cluster_name} (errno {code}){said}", code="ceph_error", component="ceph"
    )


# Some binding exceptions are raised without an errno; their class says which one they stand for.
_ERRNO_OF_CLASS = (
    (
        (rbd.ImageNotFound, errno.ENOENT),
        (rbd.ImageExists, errno.EEXIST),
        (rbd.ImageBusy, errno.EBUSY),
        (rbd.ImageHasSnapshots, errno.ENOTEMPTY),
        (rbd.ArgumentOutOfRange, errno.EDOM),
        (rbd.PermissionError, errno.EPERM),
        (rbd.DiskQuotaExceeded, errno.EDQUOT),
        (rbd.Timeout, errno.ETIMEDOUT),
        (rbd.InvalidArgument, errno.EINVAL),
        (rbd.ReadOnlyImage, errno.EROFS),
        (rados.ObjectNotFound, errno.ENOENT),
        (rados.ObjectExists, errno.EEXIST),
        (rados.PermissionError, errno.EPERM),
        (rados.TimedOut, errno.ETIMEDOUT),
    )
    if rbd is not None and rados is not None
    else ()
)


def errno_of(exc: BaseException) -> int:
    code: int | None = getattr(exc, "errno", None)
    if code:
        return abs(code)
    for cls, mapped in _ERRNO_OF_CLASS:
        if isinstance(exc, cls):
            return mapped
    return errno.EIO


@contextmanager
def translate_ceph_errors(
    cluster_name: str, what: str, *, overrides: Mapping[int, BerthError] | None = None
) -> Iterator[None]:
    """librados and librbd each have their own exception hierarchy, both carrying an errno.

    `overrides` lets a caller that knows more (which image, which argument) replace the generic
    message for particular errnos, e.g. EDOM on image creation means "size below one object".
    """
    try:
        yield
    except (rados.Error, rbd.Error) as exc:
        code = errno_of(exc)
        if overrides and code in overrides:
            raise overrides[code] from exc
        raise error_from_errno(cluster_name, what, code, str(exc)) from exc
