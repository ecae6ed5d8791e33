"""Snapshots of an image, clones made from them, and flattening clones."""

import errno
from collections.abc import Callable
from datetime import UTC
from typing import Any

from dashboard.audit.services import audited_action
from dashboard.core.actors import Actor
from dashboard.core.errors import BerthError, Conflict, InvalidInput, NotFound
from dashboard.tasks.models import BackgroundTask
from dashboard.tasks.services import ProgressCallback, task_body, task_start
from dashboard.tenancy import services as tenancy
from storage.models import CephCluster
from storage.selectors import ceph_cluster_get
from storage.services import image_cache
from storage.services import tenancy as storage_tenancy
from storage.services.bindings import rbd
from storage.services.connection import image_spec, mon_command, open_image, open_ioctx
from storage.services.errors import translate_ceph_errors
from storage.services.images import image_get
from storage.services.types import ImageInfo, SnapshotInfo
from storage.validation import validate_namespace, validate_object_name

_SNAPSHOT_TARGET = ("cluster", "pool", "namespace", "image", "snapshot")

# Ceph releases in order; clone format 2 (clones of unprotected snapshots) needs mimic clients.
_RELEASES = [
    "argonaut",
    "bobtail",
    "cuttlefish",
    "dumpling",
    "emperor",
    "firefly",
    "giant",
    "hammer",
    "infernalis",
    "jewel",
    "kraken",
    "luminous",
    "mimic",
    "nautilus",
    "octopus",
    "pacific",
    "quincy",
    "reef",
    "squid",
    "tentacle",
]


def clone_v2_allowed_for(require_min_compat_client: str) -> bool:
    """Whether a cluster requiring clients of this release or later lets clones skip protection.

    Clone format 2 clones need mimic or later clients to be opened; the cluster guarantees that
    only once `ceph osd set-require-min-compat-client mimic` (or later) is in force."""
    release = require_min_compat_client.strip().lower()
    return release in _RELEASES and _RELEASES.index(release) >= _RELEASES.index("mimic")


def clone_v2_allowed(cluster: CephCluster) -> bool:
    dump = mon_command(cluster, "osd dump", format="json", what="reading the cluster's minimum client release")
    return clone_v2_allowed_for(str((dump or {}).get("require_min_compat_client", "")))


def _snapshot_not_found(spec: str, snapshot: str) -> NotFound:
    return NotFound(f"Image {spec} has no snapshot {snapshot}.", code="snapshot_not_found", component="ceph")


def snapshot_list(*, actor: Actor, cluster: CephCluster, pool: str, namespace: str, image: str) -> list[SnapshotInfo]:
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.VIEWER)
    spec = image_spec(pool, namespace, image)
    with open_image(cluster, pool, namespace, image, read_only=True) as handle:
        with translate_ceph_errors(cluster.name, f"listing snapshots of {spec}"):
            snapshots = []
            for snap in list(handle.list_snaps()):
                handle.set_snap(snap["name"])
                children = sum(1 for _ in handle.list_children2())
                handle.set_snap(None)
                snapshots.append(
                    SnapshotInfo(
                        id=snap["id"],
                        name=snap["name"],
                        size=snap["size"],
                        protected=handle.is_protected_snap(snap["name"]),
                        created=handle.get_snap_timestamp(snap["id"]).replace(tzinfo=UTC),
                        children=children,
                    )
                )
    return snapshots


def _snapshot_operation(
    actor: Actor,
    cluster: CephCluster,
    pool: str,
    namespace: str,
    image: str,
    snapshot: str,
    what: str,
    operate: Callable[["rbd.Image"], None],
    *,
    busy: str | None = None,
    role: str = tenancy.OPERATOR,
) -> None:
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=role)
    spec = image_spec(pool, namespace, image)
    overrides: dict[int, BerthError] = {errno.ENOENT: _snapshot_not_found(spec, snapshot)}
    if busy:
        overrides[errno.EBUSY] = Conflict(busy, code="snapshot_busy", component="ceph")
    with open_image(cluster, pool, namespace, image) as handle:
        with translate_ceph_errors(cluster.name, f"{what} {spec}@{snapshot}", overrides=overrides):
            operate(handle)
    image_cache.image_changed(cluster=cluster, pool=pool, namespace=namespace, name=image)


@audited_action("storage.snapshot.create", target=_SNAPSHOT_TARGET)
def snapshot_create(
    *, actor: Actor, cluster: CephCluster, pool: str, namespace: str, image: str, snapshot: str
) -> SnapshotInfo:
    validate_object_name(snapshot, field="snapshot")
    tenant = storage_tenancy.storage_scope(
        actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.OPERATOR
    )
    spec = image_spec(pool, namespace, image)
    with (
        storage_tenancy.quota_guard(
            tenant=tenant, change=storage_tenancy.ImageChange(cluster, pool, namespace, image, adds_snapshot=True)
        ),
        open_image(cluster, pool, namespace, image) as handle,
    ):
        with translate_ceph_errors(
            cluster.name,
            f"creating snapshot {spec}@{snapshot}",
            overrides={
                errno.EEXIST: Conflict(
                    f"Image {spec} already has a snapshot {snapshot}.", code="snapshot_exists", component="ceph"
                )
            },
        ):
            handle.create_snap(snapshot)
    image_cache.image_changed(cluster=cluster, pool=pool, namespace=namespace, name=image)
    return next(
        snap
        for snap in snapshot_list(actor=actor, cluster=cluster, pool=pool, namespace=namespace, image=image)
        if snap.name == snapshot
    )


@audited_action("storage.snapshot.delete", target=_SNAPSHOT_TARGET)
def snapshot_delete(
    *, actor: Actor, cluster: CephCluster, pool: str, namespace: str, image: str, snapshot: str
) -> None:
    _snapshot_operation(
        actor,
        cluster,
        pool,
        namespace,
        image,
        snapshot,
        "deleting snapshot",
        role=tenancy.ADMIN,
        operate=lambda handle: handle.remove_snap(snapshot),
        busy=f"Snapshot {snapshot} is protected. Unprotect it first (after flattening or deleting its clones).",
    )


@audited_action("storage.snapshot.rollback", target=_SNAPSHOT_TARGET)
def snapshot_rollback(
    *, actor: Actor, cluster: CephCluster, pool: str, namespace: str, image: str, snapshot: str
) -> None:
    """Roll the image back to the snapshot, which also gives it the snapshot's size: a rollback to a
    snapshot taken before a shrink grows the image, and is checked against the quota like a resize.
    Everything written since the snapshot is lost, so it is a tenant admin's call, like deleting."""
    tenant = storage_tenancy.storage_scope(
        actor=actor,
        cluster=cluster,
        pool=pool,
        namespace=namespace,
        role=tenancy.ADMIN,  # everything written since the snapshot is lost: an admin's call
    )
    spec = image_spec(pool, namespace, image)
    with open_image(cluster, pool, namespace, image) as handle:
        with translate_ceph_errors(cluster.name, f"reading snapshot {spec}@{snapshot}"):
            size = next((snap["size"] for snap in handle.list_snaps() if snap["name"] == snapshot), None)
        if size is None:
            raise _snapshot_not_found(spec, snapshot)
        with (
            storage_tenancy.quota_guard(
                tenant=tenant, change=storage_tenancy.ImageChange(cluster, pool, namespace, image, size=size)
            ),
            translate_ceph_errors(
                cluster.name,
                f"rolling back to snapshot {spec}@{snapshot}",
                overrides={
                    errno.ENOENT: _snapshot_not_found(spec, snapshot),
                    errno.EBUSY: Conflict(
                        f"Image {spec} is in use. Unmap it (`rbd unmap`) or stop the client using it before "
                        "rolling back.",
                        code="snapshot_busy",
                        component="ceph",
                    ),
                },
            ),
        ):
            handle.rollback_to_snap(snapshot)
    image_cache.image_changed(cluster=cluster, pool=pool, namespace=namespace, name=image)


@audited_action("storage.snapshot.rename", target=_SNAPSHOT_TARGET, params=("new_name",))
def snapshot_rename(
    *, actor: Actor, cluster: CephCluster, pool: str, namespace: str, image: str, snapshot: str, new_name: str
) -> SnapshotInfo:
    validate_object_name(new_name, field="new_name")
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.OPERATOR)
    spec = image_spec(pool, namespace, image)
    with open_image(cluster, pool, namespace, image) as handle:
        with translate_ceph_errors(
            cluster.name,
            f"renaming snapshot {spec}@{snapshot}",
            overrides={
                errno.ENOENT: _snapshot_not_found(spec, snapshot),
                errno.EEXIST: Conflict(
                    f"Image {spec} already has a snapshot {new_name}.", code="snapshot_exists", component="ceph"
                ),
            },
        ):
            if snapshot not in {snap["name"] for snap in handle.list_snaps()}:
                raise _snapshot_not_found(spec, snapshot)
            handle.rename_snap(snapshot, new_name)
    return next(
        snap
        for snap in snapshot_list(actor=actor, cluster=cluster, pool=pool, namespace=namespace, image=image)
        if snap.name == new_name
    )


@audited_action("storage.snapshot.protect", target=_SNAPSHOT_TARGET)
def snapshot_protect(
    *, actor: Actor, cluster: CephCluster, pool: str, namespace: str, image: str, snapshot: str
) -> None:
    _snapshot_operation(
        actor,
        cluster,
        pool,
        namespace,
        image,
        snapshot,
        "protecting snapshot",
        lambda handle: handle.protect_snap(snapshot),
        busy=f"Snapshot {snapshot} is already protected.",
    )


@audited_action("storage.snapshot.unprotect", target=_SNAPSHOT_TARGET)
def snapshot_unprotect(
    *, actor: Actor, cluster: CephCluster, pool: str, namespace: str, image: str, snapshot: str
) -> None:
    _snapshot_operation(
        actor,
        cluster,
        pool,
        namespace,
        image,
        snapshot,
        "unprotecting snapshot",
        lambda handle: handle.unprotect_snap(snapshot),
        busy=f"Snapshot {snapshot} still has clones. Flatten or delete them first.",
    )


@audited_action("storage.image.clone", target=_SNAPSHOT_TARGET, params=("dest_pool", "dest_namespace", "dest_name"))
def image_clone(
    *,
    actor: Actor,
    cluster: CephCluster,
    pool: str,
    namespace: str,
    image: str,
    snapshot: str,
    dest_pool: str,
    dest_namespace: str,
    dest_name: str,
) -> ImageInfo:
    """Clone a snapshot to another place, the clone counting against the destination tenant's quota.

    The snapshot must be protected unless the cluster requires mimic or later clients (clone
    format 2, which Berth's connection uses, then lets librbd track the clones instead).

    Needs the operator role (or more) in the source place's tenant as well as in the
    destination's: a clone reads all of the snapshot's data from outside the source tenant's
    control, which a viewer's read-only access must not amount to. Platform admins may clone anywhere.
    """
    validate_object_name(dest_pool, field="dest_pool")
    dest_namespace = validate_namespace(dest_namespace, field="dest_namespace")
    validate_object_name(dest_name, field="dest_name")
    spec = image_spec(pool, namespace, image)
    dest = image_spec(dest_pool, dest_namespace, dest_name)
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.OPERATOR)
    dest_tenant = storage_tenancy.storage_scope(
        actor=actor, cluster=cluster, pool=dest_pool, namespace=dest_namespace, role=tenancy.OPERATOR
    )
    with open_image(cluster, pool, namespace, image, read_only=True) as handle:
        with translate_ceph_errors(
            cluster.name,
            f"checking snapshot {spec}@{snapshot}",
            overrides={errno.ENOENT: _snapshot_not_found(spec, snapshot)},
        ):
            protected = handle.is_protected_snap(snapshot)
            clone_size = next(snap["size"] for snap in handle.list_snaps() if snap["name"] == snapshot)
    if not protected and not clone_v2_allowed(cluster):
        raise InvalidInput(
            f"Snapshot {spec}@{snapshot} is not protected. Protect it first, so it cannot be "
            "deleted while clones depend on it. (Clones of unprotected snapshots need the cluster to require "
            "mimic or later clients: `ceph osd set-require-min-compat-client mimic`.)",
            code="snapshot_not_protected",
            extra={"field": "snapshot"},
        )
    with (
        storage_tenancy.quota_guard(
            tenant=dest_tenant,
            change=storage_tenancy.ImageChange(
                cluster, dest_pool, dest_namespace, dest_name, size=clone_size, creates=True
            ),
        ),
        open_ioctx(cluster, pool, namespace) as parent_ioctx,
        open_ioctx(cluster, dest_pool, dest_namespace) as child_ioctx,
        translate_ceph_errors(
            cluster.name,
            f"cloning {spec}@{snapshot} to {dest}",
            overrides={errno.EEXIST: Conflict(f"Image {dest} already exists.", code="image_exists", component="ceph")},
        ),
    ):
        rbd.RBD().clone(parent_ioctx, image, snapshot, child_ioctx, dest_name)
    return image_get(actor=actor, cluster=cluster, pool=dest_pool, namespace=dest_namespace, name=dest_name)


@audited_action("storage.image.flatten", target=("cluster", "pool", "namespace", "name"))
def image_flatten(*, actor: Actor, cluster: CephCluster, pool: str, namespace: str, name: str) -> BackgroundTask:
    """Copy the parent's data into a clone so it stands alone; runs in the background."""
    tenant = storage_tenancy.storage_scope(
        actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.OPERATOR
    )
    spec = image_spec(pool, namespace, name)
    if image_get(actor=actor, cluster=cluster, pool=pool, namespace=namespace, name=name).parent is None:
        raise InvalidInput(
            f"Image {spec} is not a clone; there is nothing to flatten.", code="not_a_clone", extra={"field": "name"}
        )

    return task_start(
        actor=actor,
        tenant=tenant,
        name="storage.image.flatten",
        target={"cluster": cluster.name, "image": spec},
        arguments={"cluster": cluster.name, "pool": pool, "namespace": namespace, "name": name},
    )


@task_body("storage.image.flatten")
def flatten_image_in_background(
    *, progress: ProgressCallback, cluster: str, pool: str, namespace: str, name: str
) -> dict[str, Any]:
    # A flatten interrupted half-way leaves a clone that is still a valid clone: nothing to clean up.
    ceph = ceph_cluster_get(actor=None, name=cluster)
    spec = image_spec(pool, namespace, name)
    with (
        open_image(ceph, pool, namespace, name) as handle,
        translate_ceph_errors(ceph.name, f"flattening image {spec}"),
    ):
        handle.flatten(on_progress=progress)
    image_cache.image_changed(cluster=ceph, pool=pool, namespace=namespace, name=name)
    return {"image": spec}
