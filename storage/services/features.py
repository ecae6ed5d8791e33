"""Switching an image's features after creation, within librbd's rules.

Only the four features librbd lets a running image change are offered: exclusive-lock,
object-map, fast-diff (on and off) and deep-flatten (off only: librbd cannot add it later). The
rules are checked here first, so a refusal names the rule instead of librbd's bare EINVAL:

- object-map needs exclusive-lock, so exclusive-lock cannot go while object-map stays;
- fast-diff needs object-map, and librbd 16 switches the two together (enabling either enables
  both, disabling either disables both), so they are asked for together;
- an object map enabled on an image with data starts out invalid: it is rebuilt at once, or
  `rbd du` and fast-diff would fall back to scanning every object.
"""

import errno
from collections.abc import Iterable
from dataclasses import dataclass

from dashboard.audit.services import audited_action
from dashboard.core.actors import Actor
from dashboard.core.errors import Conflict, InvalidInput
from dashboard.tenancy import services as tenancy
from storage.models import CephCluster
from storage.services import image_cache
from storage.services import tenancy as storage_tenancy
from storage.services.connection import image_spec, open_image
from storage.services.errors import translate_ceph_errors
from storage.services.headers import FEATURE_BITS, feature_names

MUTABLE_FEATURES = ("exclusive-lock", "object-map", "fast-diff", "deep-flatten")
# Disabling is done in this order and enabling in its reverse, so no step breaks a dependency.
_DISABLE_ORDER = ("fast-diff", "object-map", "exclusive-lock", "deep-flatten")


@dataclass(frozen=True)
class FeatureChange:
    enable: tuple[str, ...]
    disable: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.enable and not self.disable


def _refuse(message: str, field: str = "features") -> InvalidInput:
    return InvalidInput(message, code="feature_change_refused", extra={"field": field})


def plan_feature_change(current: Iterable[str], wanted: dict[str, bool]) -> FeatureChange:
    """What to enable and disable to go from `current` to `wanted` (feature -> on/off; features not
    named keep their state), or InvalidInput naming the librbd rule the result would break."""
    for name in wanted:
        if name not in MUTABLE_FEATURES:
            raise _refuse(
                f"{name}: cannot be changed after creation; the features that can are {', '.join(MUTABLE_FEATURES)}.",
                field=name,
            )
    now = set(current) & set(MUTABLE_FEATURES)
    after = {name for name in MUTABLE_FEATURES if wanted.get(name, name in now)}
    enable = tuple(name for name in reversed(_DISABLE_ORDER) if name in after - now)
    disable = tuple(name for name in _DISABLE_ORDER if name in now - after)
    if "deep-flatten" in enable:
        raise _refuse(
            "deep-flatten can only be disabled: librbd cannot add it to an existing image. Copy the image "
            "(the copy gets the default features) if it needs deep-flatten.",
            field="deep-flatten",
        )
    if "object-map" in after and "exclusive-lock" not in after:
        raise _refuse(
            "object-map needs exclusive-lock: "
            + (
                "disable object-map (and fast-diff) first, or together with it."
                if "exclusive-lock" in disable
                else "enable exclusive-lock together with it."
            ),
            field="exclusive-lock" if "exclusive-lock" in disable else "object-map",
        )
    if ("object-map" in after) != ("fast-diff" in after) and ({"object-map", "fast-diff"} & set(enable + disable)):
        raise _refuse(
            "fast-diff needs object-map, and librbd switches the two together: enable or disable both.",
            field="fast-diff",
        )
    return FeatureChange(enable=enable, disable=disable)


def _bits(names: Iterable[str]) -> int:
    bits = 0
    for name in names:
        bits |= FEATURE_BITS[name]
    return bits


@audited_action("storage.image.update_features", target=("cluster", "pool", "namespace", "name"), params=("features",))
def image_features_update(
    *, actor: Actor, cluster: CephCluster, pool: str, namespace: str, name: str, features: dict[str, bool]
) -> list[str]:
    """Switch features on or off; answers the image's features afterwards.

    Disabling deep-flatten cannot be undone, so it is a tenant admin's call; the rest an operator's."""
    tenant = storage_tenancy.storage_scope(
        actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.OPERATOR
    )
    spec = image_spec(pool, namespace, name)
    with open_image(cluster, pool, namespace, name) as image:
        with translate_ceph_errors(cluster.name, f"reading the features of {spec}"):
            current = feature_names(image.features())
        change = plan_feature_change(current, features)
        if "deep-flatten" in change.disable and tenant is not None:
            tenancy.require_role(actor, tenant, tenancy.ADMIN)
        busy = Conflict(
            f"Image {spec} is in use by a client holding its exclusive lock; librbd changes these features only "
            "when the lock is free. Unmap it (`rbd unmap`) or stop the client, then retry.",
            code="image_busy",
            component="ceph",
        )
        refused = InvalidInput(
            f"Ceph refused to change the features of {spec} (librbd answered EINVAL): journaling or mirroring may "
            "depend on them; see `rbd info` for what the image uses.",
            code="feature_change_refused",
            component="ceph",
        )
        overrides = {errno.EBUSY: busy, errno.EINVAL: refused, errno.EROFS: busy}
        if change.disable:
            with translate_ceph_errors(cluster.name, f"disabling features of {spec}", overrides=overrides):
                image.update_features(_bits(change.disable), False)
        if change.enable:
            with translate_ceph_errors(cluster.name, f"enabling features of {spec}", overrides=overrides):
                image.update_features(_bits(change.enable), True)
            if "object-map" in change.enable:
                with translate_ceph_errors(cluster.name, f"rebuilding the object map of {spec}", overrides=overrides):
                    image.rebuild_object_map()
        with translate_ceph_errors(cluster.name, f"reading the features of {spec}"):
            now = feature_names(image.features())
    image_cache.image_changed(cluster=cluster, pool=pool, namespace=namespace, name=name)
    return now
