"""librbd's QoS throttles, per image and as the default of a pool.

librbd keeps an image's override as image metadata `conf_<option>` and a pool's default as pool
metadata of the same form; `Image.config_list()` reports which one is in force. Only librbd
applies them (QEMU, rbd-nbd, ceph-csi's rbd-nbd mounter): the kernel client (krbd, ceph-csi's
default mounter) ignores them, which the pages say next to the form.

librbd 16 reads a pool's defaults from the pool's default namespace only: metadata written into an
RBD namespace's own `rbd_info` is stored but never applied (`rbd config pool` has no namespace
option either). Berth therefore offers defaults per pool, not per RBD namespace, and says so.
"""

import errno
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dashboard.audit.services import audited_action
from dashboard.core.actors import Actor
from dashboard.core.errors import InvalidInput
from dashboard.tenancy import services as tenancy
from storage.models import CephCluster
from storage.services import tenancy as storage_tenancy
from storage.services.bindings import rbd
from storage.services.connection import image_spec, open_image, open_ioctx
from storage.services.errors import translate_ceph_errors
from storage.validation import validate_namespace

# Each limit per second (0 = unlimited); a burst lets a client exceed its limit briefly.
QOS_OPTIONS = tuple(
    f"rbd_qos_{direction}{unit}_{kind}"
    for unit in ("iops", "bps")
    for direction in ("", "read_", "write_")
    for kind in ("limit", "burst")
)
# librbd's config_list sources: the cluster's configuration, the pool's metadata, the image's metadata.
_SOURCES = {0: "default", 1: "pool", 2: "image"}
MAX_QOS_VALUE = 2**63 - 1


@dataclass(frozen=True)
class QosSetting:
    option: str
    value: int  # what librbd applies; 0 is unlimited
    source: str  # "default", "pool" or "image": where that value comes from


def qos_label(option: str) -> str:
    """ "rbd_qos_read_bps_burst" -> "read bytes/s burst"."""
    words = option.removeprefix("rbd_qos_").split("_")
    kind = words.pop()
    unit = {"iops": "IOPS", "bps": "bytes/s"}[words.pop()]
    return " ".join([*words, unit, kind])


def validate_qos_changes(changes: dict[str, int | None]) -> dict[str, int | None]:
    """Option -> new value, or None to drop the override so the pool's default (or the cluster's) applies."""
    cleaned: dict[str, int | None] = {}
    for option, value in changes.items():
        if option not in QOS_OPTIONS:
            raise InvalidInput(
                f"{option}: not a QoS option; use one of {', '.join(QOS_OPTIONS)}.",
                code="invalid_qos_option",
                extra={"field": option},
            )
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise InvalidInput(
                f"{option}: must be a whole number of 0 (unlimited) or more, or empty to inherit.",
                code="invalid_qos_value",
                extra={"field": option},
            )
        if value is not None and value > MAX_QOS_VALUE:
            raise InvalidInput(f"{option}: too large.", code="invalid_qos_value", extra={"field": option})
        cleaned[option] = value
    return cleaned


def _settings(entries: Iterable[dict[str, Any]]) -> list[QosSetting]:
    found = {entry["name"]: entry for entry in entries if entry["name"] in QOS_OPTIONS}
    return [
        QosSetting(option, int(found[option]["value"]), _SOURCES.get(found[option]["source"], "default"))
        for option in QOS_OPTIONS
        if option in found
    ]


def image_qos_get(*, actor: Actor, cluster: CephCluster, pool: str, namespace: str, name: str) -> list[QosSetting]:
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.VIEWER)
    with open_image(cluster, pool, namespace, name, read_only=True) as image:
        with translate_ceph_errors(cluster.name, f"reading the QoS of {image_spec(pool, namespace, name)}"):
            return _settings(image.config_list())


def _refused_value(what: str) -> InvalidInput:
    return InvalidInput(
        f"Ceph refused {what}: librbd accepts whole numbers of 0 or more for QoS options.",
        code="invalid_qos_value",
        component="ceph",
    )


@audited_action("storage.image.set_qos", target=("cluster", "pool", "namespace", "name"), params=("changes",))
def image_qos_set(
    *, actor: Actor, cluster: CephCluster, pool: str, namespace: str, name: str, changes: dict[str, int | None]
) -> list[QosSetting]:
    """Set the image's own limits; None drops its override so the pool's default applies again."""
    changes = validate_qos_changes(changes)
    namespace = validate_namespace(namespace)
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.OPERATOR)
    spec = image_spec(pool, namespace, name)
    with open_image(cluster, pool, namespace, name) as image:
        for option, value in changes.items():
            with translate_ceph_errors(
                cluster.name,
                f"setting {option} of {spec}",
                overrides={errno.EINVAL: _refused_value(f"{option}={value} for {spec}")},
            ):
                if value is None:
                    try:
                        image.config_remove(option)
                    except KeyError:
                        pass  # no override to drop: already inheriting
                else:
                    image.config_set(option, str(value))
        with translate_ceph_errors(cluster.name, f"reading the QoS of {spec}"):
            return _settings(image.config_list())


def pool_qos_get(*, actor: Actor, cluster: CephCluster, pool: str) -> list[QosSetting]:
    """The pool's defaults: every QoS option with its value in the pool's metadata, else the cluster's."""
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace="", role=tenancy.VIEWER)
    with open_ioctx(cluster, pool) as ioctx:
        with translate_ceph_errors(cluster.name, f"reading the QoS defaults of pool {pool}"):
            overrides = {entry["name"]: entry["value"] for entry in rbd.RBD().config_list(ioctx)}
    return [
        QosSetting(option, int(overrides[option]), "pool") if option in overrides else QosSetting(option, 0, "default")
        for option in QOS_OPTIONS
    ]


@audited_action("storage.pool.set_qos", target=("cluster", "pool"), params=("changes",))
def pool_qos_set(*, actor: Actor, cluster: CephCluster, pool: str, changes: dict[str, int | None]) -> list[QosSetting]:
    """Defaults for every image in the pool, its RBD namespaces included, that has no override of its
    own: a whole pool's tenant (operator or more) or a platform admin may set them."""
    changes = validate_qos_changes(changes)
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace="", role=tenancy.OPERATOR)
    with open_ioctx(cluster, pool) as ioctx:
        for option, value in changes.items():
            with translate_ceph_errors(
                cluster.name,
                f"setting the default {option} of pool {pool}",
                overrides={errno.EINVAL: _refused_value(f"{option}={value} for pool {pool}")},
            ):
                if value is None:
                    try:
                        rbd.RBD().config_remove(ioctx, option)
                    except KeyError:
                        pass  # no default to drop
                else:
                    rbd.RBD().config_set(ioctx, option, str(value))
    return pool_qos_get(actor=actor, cluster=cluster, pool=pool)
