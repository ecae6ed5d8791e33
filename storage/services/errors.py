"""Translation of Ceph binding errors into Berth errors an operator can act on."""

import errno
from contextlib import contextmanager

from dashboard.errors import BerthError, Conflict, NotFound, PermissionDenied, ServiceUnavailable
from storage.services.bindings import rados, rbd

# Errors after which the connection itself is suspect: drop it and build a new one next time.
CONNECTION_ERRNOS = {errno.ETIMEDOUT, errno.ESHUTDOWN, errno.ENOTCONN, errno.ECONNREFUSED, errno.EINTR}


class CephUnreachable(ServiceUnavailable):
    default_code = "ceph_unreachable"
    component = "ceph"


def unreachable(cluster_name: str, reason: str) -> CephUnreachable:
    return CephUnreachable(f"Ceph cluster {cluster_name} is unreachable: {reason}")


def error_from_errno(cluster_name: str, what: str, code: int, ceph_message: str = "") -> BerthError:
    """Map a negative (librados style) or positive errno from a Ceph call to a Berth error."""
    code = abs(code)
    said = f": {ceph_message}" if ceph_message else ""
    if code in (errno.ETIMEDOUT, errno.EINTR):
        return unreachable(cluster_name, f"{what} got no answer in time{said}")
    if code in (errno.EACCES, errno.EPERM):
        return PermissionDenied(
            f"Ceph cluster {cluster_name} refused {what}{said}. Berth's cephx client lacks the capability "
            "for it: check its caps with `ceph auth get <client>`.",
            code="ceph_permission_denied", component="ceph")
    if code == errno.ENOENT:
        return NotFound(f"{what} failed: not found{said}", component="ceph")
    if code == errno.EEXIST:
        return Conflict(f"{what} failed: it already exists{said}", code="already_exists", component="ceph")
    if code == errno.EBUSY:
        return Conflict(f"{what} failed: busy{said}", code="busy", component="ceph")
    return BerthError(f"{what} failed on Ceph cluster {cluster_name} (errno {code}){said}",
                      code="ceph_error", component="ceph")


@contextmanager
def translate_ceph_errors(cluster_name: str, what: str):
    """librados and librbd each have their own exception hierarchy, both carrying an errno."""
    try:
        yield
    except (rados.Error, rbd.Error) as exc:
        code = getattr(exc, "errno", None)
        if code is None:
            raise error_from_errno(cluster_name, what, errno.EIO, str(exc)) from exc
        raise error_from_errno(cluster_name, what, code, str(exc)) from exc
