"""The RBD trash: listing, restoring, purging, and purging expired entries on a schedule.

An image moved to the trash may be protected for a while (librbd's deferment end, set by
`image_delete(protect_days=...)`). A purge removes only entries whose protection has ended; a forced
purge removes protected ones too, which a tenant admin confirms by typing the name. Trashed images
keep counting against the tenant's quota until they are purged (see tenant_usage.py).
"""

import errno
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.utils import timezone

from dashboard.audit.services import audited_action, record_event
from dashboard.core.actors import Actor
from dashboard.core.errors import BerthError, Conflict, NotFound
from dashboard.tasks.models import BackgroundTask
from dashboard.tasks.scheduler import periodic
from dashboard.tasks.services import ProgressCallback, task_body, task_start
from dashboard.tenancy import services as tenancy
from storage.models import CephCluster
from storage.selectors import ceph_cluster_get
from storage.services import tenancy as storage_tenancy
from storage.services.bindings import rados, rbd
from storage.services.connection import image_spec, mon_command, open_ioctx
from storage.services.errors import translate_ceph_errors
from storage.services.images import image_get
from storage.services.types import ImageInfo, TrashEntry
from storage.validation import validate_confirmation, validate_namespace, validate_object_name


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def _entry(pool: str, namespace: str, entry: dict[str, Any]) -> TrashEntry:
    return TrashEntry(
        id=entry["id"],
        name=entry["name"],
        pool=pool,
        namespace=namespace,
        deleted_at=_aware(entry.get("deletion_time")),
        deferment_end=_aware(entry.get("deferment_end_time")),
        source=str(entry.get("source", "")).lower(),
    )


def _is_expired(entry: TrashEntry, now: datetime) -> bool:
    return entry.deferment_end is None or entry.deferment_end <= now


def trash_list(*, actor: Actor, cluster: CephCluster, pool: str, namespace: str = "") -> list[TrashEntry]:
    namespace = validate_namespace(namespace)
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.VIEWER)
    with open_ioctx(cluster, pool, namespace) as ioctx, translate_ceph_errors(cluster.name, f"listing trash of {pool}"):
        entries = list(rbd.RBD().trash_list(ioctx))
    return sorted((_entry(pool, namespace, entry) for entry in entries), key=lambda entry: entry.name)


def _trash_entry(cluster: CephCluster, ioctx: "rados.Ioctx", pool: str, namespace: str, image_id: str) -> TrashEntry:
    with translate_ceph_errors(
        cluster.name,
        f"looking up trash entry {image_id}",
        overrides={
            errno.ENOENT: NotFound(
                f"The trash of {image_spec(pool, namespace, '')} has no entry {image_id}.",
                code="trash_entry_not_found",
                component="ceph",
            )
        },
    ):
        return _entry(pool, namespace, cast(dict[str, Any], rbd.RBD().trash_get(ioctx, image_id)))


@audited_action(
    "storage.image.trash_restore", target=("cluster", "pool", "namespace", "image_id"), params=("new_name",)
)
def trash_restore(
    *,
    actor: Actor,
    cluster: CephCluster,
    pool: str,
    namespace: str,
    image_id: str,
    new_name: str | None = None,
) -> ImageInfo:
    namespace = validate_namespace(namespace)
    if new_name:
        validate_object_name(new_name, field="new_name")
    tenant = storage_tenancy.storage_scope(
        actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.OPERATOR
    )
    with open_ioctx(cluster, pool, namespace) as ioctx:
        name = new_name or _trash_entry(cluster, ioctx, pool, namespace, image_id).name
    spec = image_spec(pool, namespace, name)
    # The trashed image counts already, so restoring it adds nothing; the reservation keeps it
    # counted while it moves, when a usage read could find it neither in the trash nor among the images.
    with (
        storage_tenancy.quota_guard(
            tenant=tenant, change=storage_tenancy.ImageChange(cluster, pool, namespace, name, trash_id=image_id)
        ),
        open_ioctx(cluster, pool, namespace) as ioctx,
    ):
        with translate_ceph_errors(
            cluster.name,
            f"restoring {spec} from the trash",
            overrides={
                errno.EEXIST: Conflict(
                    f"Image {spec} already exists; restore under a new name.", code="image_exists", component="ceph"
                )
            },
        ):
            rbd.RBD().trash_restore(ioctx, image_id, name)
    return image_get(actor=actor, cluster=cluster, pool=pool, namespace=namespace, name=name)


def _protected_message(entry: TrashEntry) -> str:
    until = entry.deferment_end.strftime("%Y-%m-%d %H:%M UTC") if entry.deferment_end else ""
    return (
        f"Trash entry {entry.name} ({entry.id}) is protected until {until}. Purge it with force (typing its "
        "name) to remove it before then, or restore it."
    )


@audited_action("storage.image.trash_purge", target=("cluster", "pool", "namespace", "image_id"), params=("force",))
def trash_purge(
    *,
    actor: Actor,
    cluster: CephCluster,
    pool: str,
    namespace: str = "",
    image_id: str | None = None,
    force: bool = False,
    confirm_name: str | None = None,
) -> BackgroundTask:
    """Remove one trash entry, or every entry, for good (in the background).

    Without `force` only entries whose protection has ended go (a protected entry named by
    `image_id` is refused); with it, protected ones too, once `confirm_name` repeats the entry's
    name (or, for the whole trash, the pool's). Either way it is a tenant admin's call: data is lost."""
    namespace = validate_namespace(namespace)
    tenant = storage_tenancy.storage_scope(
        actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.ADMIN
    )
    entry = None
    if image_id:
        with open_ioctx(cluster, pool, namespace) as ioctx:
            entry = _trash_entry(cluster, ioctx, pool, namespace, image_id)
    if force:
        validate_confirmation(confirm_name, expected=entry.name if entry else pool)
    elif entry is not None and not _is_expired(entry, timezone.now()):
        raise Conflict(_protected_message(entry), code="trash_entry_protected", component="ceph")

    return task_start(
        actor=actor,
        tenant=tenant,
        name="storage.image.trash_purge",
        target={
            "cluster": cluster.name,
            "trash": image_spec(pool, namespace, ""),
            "image_id": image_id or "*",
            "force": force,
        },
        arguments={"cluster": cluster.name, "pool": pool, "namespace": namespace, "image_id": image_id, "force": force},
    )


@task_body("storage.image.trash_purge")
def purge_trash_in_background(
    *,
    progress: ProgressCallback,
    cluster: str,
    pool: str,
    namespace: str,
    image_id: str | None,
    force: bool = True,  # purges queued before protection periods existed always forced
) -> dict[str, Any]:
    ceph = ceph_cluster_get(actor=None, name=cluster)
    with open_ioctx(ceph, pool, namespace) as ioctx:
        if image_id:
            entries = [_trash_entry(ceph, ioctx, pool, namespace, image_id)]
        else:
            with translate_ceph_errors(ceph.name, f"listing trash of {pool}"):
                entries = [_entry(pool, namespace, entry) for entry in rbd.RBD().trash_list(ioctx)]
        now = timezone.now()
        doomed = [entry for entry in entries if force or _is_expired(entry, now)]
        kept = [entry for entry in entries if entry not in doomed]
        if image_id and kept:  # protected since the purge was asked for (restored and trashed again)
            raise Conflict(_protected_message(kept[0]), code="trash_entry_protected", component="ceph")
        _remove_entries(ceph, ioctx, doomed, force=force, progress=progress)
    result: dict[str, Any] = {"purged": len(doomed)}
    if kept:
        result["kept_protected"] = [entry.name for entry in kept]
    return result


def _remove_entries(
    cluster: CephCluster, ioctx: "rados.Ioctx", entries: list[TrashEntry], *, force: bool, progress: ProgressCallback
) -> None:
    for done, entry in enumerate(entries):
        with translate_ceph_errors(
            cluster.name,
            f"purging trash entry {entry.name} ({entry.id})",
            overrides={errno.EPERM: Conflict(_protected_message(entry), code="trash_entry_protected")},
        ):
            rbd.RBD().trash_remove(
                ioctx,
                entry.id,
                force=force,
                on_progress=lambda offset, total, done=done: progress(done * total + offset, len(entries) * total),
            )


# --- Purging expired entries on a schedule --------------------------------------------------------


def trash_auto_purge_note(*, cluster: CephCluster) -> str:
    """What the trash page says about automatic purging on this cluster."""
    if not cluster.purge_expired_trash:
        return (
            f"Expired entries stay until someone purges them: automatic purging is off for cluster {cluster.name} "
            "(a platform admin may turn it on)."
        )
    return (
        f"Entries whose protection has ended are purged automatically on cluster {cluster.name}, "
        f"every {settings.BERTH_TRASH_PURGE_MINUTES} minutes."
    )


@audited_action("storage.trash.set_auto_purge", target=("cluster",), params=("enabled",))
def trash_auto_purge_set(*, actor: Actor, cluster: CephCluster, enabled: bool) -> CephCluster:
    """Turn the scheduled purge of expired entries on or off for every RBD pool of the cluster: all tenants'
    trash at once, so it is the platform's call."""
    tenancy.require_platform_admin(actor, "turn automatic trash purging on or off")
    CephCluster.objects.filter(pk=cluster.pk).update(purge_expired_trash=enabled)
    cluster.purge_expired_trash = enabled
    return cluster


def _rbd_pools(cluster: CephCluster) -> list[str]:
    details = mon_command(cluster, "osd pool ls", detail="detail", format="json", what="listing pools")
    return sorted(detail["pool_name"] for detail in details if "rbd" in (detail.get("application_metadata") or {}))


def _purge_expired_on(cluster: CephCluster, now: datetime) -> tuple[list[str], list[str]]:
    """Purge every expired entry of every RBD pool and namespace; answer what was purged and what failed."""
    purged: list[str] = []
    problems: list[str] = []
    for pool in _rbd_pools(cluster):
        with open_ioctx(cluster, pool) as ioctx:
            with translate_ceph_errors(cluster.name, f"listing namespaces of {pool}"):
                namespaces = ["", *rbd.RBD().namespace_list(ioctx)]
            for namespace in namespaces:
                ioctx.set_namespace(namespace)
                with translate_ceph_errors(cluster.name, f"listing trash of {image_spec(pool, namespace, '')}"):
                    listed = [_entry(pool, namespace, entry) for entry in rbd.RBD().trash_list(ioctx)]
                for entry in listed:
                    if not _is_expired(entry, now):
                        continue
                    spec = image_spec(pool, namespace, entry.name)
                    try:
                        _remove_entries(cluster, ioctx, [entry], force=False, progress=lambda done, total: 0)
                    except BerthError as error:
                        problems.append(f"{spec} ({entry.id}): {error.message}")
                    else:
                        purged.append(f"{spec} ({entry.id})")
    return purged, problems


@periodic(
    "storage.trash.purge_expired",
    every=lambda: timedelta(minutes=settings.BERTH_TRASH_PURGE_MINUTES),
    description="Purge trash entries whose protection has ended, on clusters with automatic purging turned on",
    audit_runs=False,
)
def trash_purge_expired(*, progress: ProgressCallback) -> dict[str, Any]:
    """One audit event per cluster and run (`storage.trash.purge_expired`), naming what went; a cluster
    that does not answer is a failed event for it, and the others are still purged."""
    clusters = list(CephCluster.objects.filter(purge_expired_trash=True))
    results: dict[str, Any] = {}
    for done, cluster in enumerate(clusters):
        now = timezone.now()
        try:
            purged, problems = _purge_expired_on(cluster, now)
        except BerthError as error:
            purged, problems = [], [error.message]
        results[cluster.name] = {"purged": purged, "problems": problems}
        record_event(
            actor=None,
            action="storage.trash.purge_expired",
            target={"cluster": cluster.name},
            parameters={"purged": purged, "problems": problems},
            outcome="failed" if problems else "success",
            error="; ".join(problems),
        )
        progress(done + 1, len(clusters))
    return {"clusters": results}
