"""Imports the Ceph bindings, which come from Debian packages rather than PyPI.

Importing them here, once, lets Berth start (and say what to install) on a machine without
them, instead of failing every page with an ImportError traceback.
"""

from dashboard.core.errors import NotConfigured

try:
    # Re-exported (`as`): the other service modules take the bindings from here.
    import rados as rados
    import rbd as rbd
except ImportError:  # pragma: no cover - depends on the machine, exercised by the install script
    rados = None
    rbd = None

MISSING_BINDINGS_MESSAGE = (
    "The Ceph Python bindings are not installed. Install Debian's packages "
    "python3-rados and python3-rbd (apt-get install python3-rados python3-rbd), "
    "then re-run scripts/install so Berth's virtualenv can see them."
)


def require_bindings() -> None:
    if rados is None or rbd is None:
        raise NotConfigured(MISSING_BINDINGS_MESSAGE, code="ceph_bindings_missing", component="ceph")
