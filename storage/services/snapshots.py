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
from storage.services import tenancy as storage_tenancy
from storage.services.bindings import rbd
from storage.services.connection import image_spec, open_image, open_ioctx
from storage.services.errors import translate_ceph_errors
from storage.services.images import image_get
from storage.services.types import ImageInfo, SnapshotInfo
from storage.validation import validate_namespace, validate_object_name

_SNAPSHOT_TARGET = ("cluster", "pool", "namespace", "image", "snapshot")


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
        storage_tenancy.quota_guard(tenant=tenant, request=storage_tenancy.StorageRequest(snapshots=1)),
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
    _snapshot_operation(
        actor,
        cluster,
        pool,
        namespace,
        image,
        snapshot,
        "rolling back to snapshot",
        lambda handle: handle.rollback_to_snap(snapshot),
        busy=f"Image {image_spec(pool, namespace, image)} is in use. Unmap it (`rbd unmap`) or stop "
        "the client using it before rolling back.",
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
    validate_object_name(dest_pool, field="dest_pool")
    dest_namespace = validate_namespace(dest_namespace, field="dest_namespace")
    validate_object_name(dest_name, field="dest_name")
    spec = image_spec(pool, namespace, image)
    dest = image_spec(dest_pool, dest_namespace, dest_name)
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.VIEWER)
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
    if not protected:
        raise InvalidInput(
            f"Snapshot {spec}@{snapshot} is not protected. Protect it first, so it cannot be "
            "deleted while clones depend on it.",
            code="snapshot_not_protected",
            extra={"field": "snapshot"},
        )
    with (
        storage_tenancy.quota_guard(
            tenant=dest_tenant,
            request=storage_tenancy.StorageRequest(
                images=1, provisioned_bytes=clone_size, largest_image_bytes=clone_size
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
    return {"image": spec}
