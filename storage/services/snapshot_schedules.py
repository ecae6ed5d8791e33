"""Snapshot schedules with retention: "hourly keep 24, daily keep 7" for one image or for every image of
an RBD namespace. Upstream Ceph has no user snapshot scheduler for RBD (only mirror snapshots are
scheduled), so Berth's scheduler runs them: the periodic job `storage.snapshot_schedules.run` takes
the due snapshots and prunes each schedule's own older ones.

A schedule's snapshots are named `sched<id>-<frequency>-<UTC timestamp>`, e.g.
`sched12-hourly-20250101T120000Z`: the prefix says which schedule took it, so pruning never touches a
snapshot someone made by hand or another schedule's, and the timestamp sorts them by age. A snapshot
that is protected (clones depend on it) is never pruned: the run says so, and it stays until its
clones are flattened or deleted and it is unprotected.

Every snapshot counts against the tenant's snapshot quota. At the quota a run stops (no further
snapshot, nothing pruned), and says so where it is looked for: on the schedule's page (its last
outcome), in the run's task result and in an audit event, as every run is.
"""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from dashboard.audit.services import audited_action, record_event
from dashboard.core.actors import Actor, signed_in
from dashboard.core.errors import BerthError, Conflict, InvalidInput, NotFound, QuotaExceeded
from dashboard.tasks.scheduler import periodic
from dashboard.tasks.services import ProgressCallback
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Tenant
from storage.models import CephCluster, SnapshotSchedule
from storage.services import tenancy as storage_tenancy
from storage.services.bindings import rbd
from storage.services.connection import image_spec, open_image, open_ioctx
from storage.services.errors import translate_ceph_errors
from storage.validation import validate_namespace, validate_object_name

EVERY = {
    SnapshotSchedule.HOURLY: timedelta(hours=1),
    SnapshotSchedule.DAILY: timedelta(days=1),
    SnapshotSchedule.WEEKLY: timedelta(weeks=1),
}
MAX_KEEP = 1000
_TIMESTAMP = "%Y%m%dT%H%M%SZ"


def snapshot_prefix(schedule: SnapshotSchedule) -> str:
    return f"sched{schedule.pk}-{schedule.frequency}-"


def snapshot_name(schedule: SnapshotSchedule, moment: datetime) -> str:
    return snapshot_prefix(schedule) + moment.astimezone(UTC).strftime(_TIMESTAMP)


def _own_snapshots(schedule: SnapshotSchedule, names: list[str]) -> list[str]:
    """The schedule's snapshots among `names`, oldest first."""
    pattern = re.compile(re.escape(snapshot_prefix(schedule)) + r"\d{8}T\d{6}Z$")
    return sorted(name for name in names if pattern.match(name))


def _validate_schedule(frequency: str, keep: int) -> None:
    if frequency not in EVERY:
        raise InvalidInput(
            f"frequency: must be one of {', '.join(EVERY)} (got {frequency!r}).",
            code="invalid_frequency",
            extra={"field": "frequency"},
        )
    if isinstance(keep, bool) or not isinstance(keep, int) or not 1 <= keep <= MAX_KEEP:
        raise InvalidInput(
            f"keep: how many snapshots to keep, a whole number from 1 to {MAX_KEEP} (got {keep!r}).",
            code="invalid_keep",
            extra={"field": "keep"},
        )


def snapshot_schedule_list(
    *, actor: Actor, cluster: CephCluster, pool: str, namespace: str = ""
) -> list[SnapshotSchedule]:
    namespace = validate_namespace(namespace)
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.VIEWER)
    return list(SnapshotSchedule.objects.filter(cluster=cluster, pool=pool, namespace=namespace))


def snapshot_schedule_get(
    *, actor: Actor, cluster: CephCluster, pool: str, namespace: str, schedule_id: int
) -> SnapshotSchedule:
    """A schedule of another place (or another tenant's) answers as a missing one does."""
    namespace = validate_namespace(namespace)
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.VIEWER)
    schedule = SnapshotSchedule.objects.filter(pk=schedule_id, cluster=cluster, pool=pool, namespace=namespace).first()
    if schedule is None:
        raise NotFound(
            f"{image_spec(pool, namespace, '')} has no snapshot schedule {schedule_id}.",
            code="snapshot_schedule_not_found",
        )
    return schedule


@audited_action(
    "storage.snapshot_schedule.create", target=("cluster", "pool", "namespace", "image"), params=("frequency", "keep")
)
def snapshot_schedule_create(
    *,
    actor: Actor,
    cluster: CephCluster,
    pool: str,
    namespace: str,
    image: str = "",
    frequency: str,
    keep: int,
) -> SnapshotSchedule:
    """Schedule snapshots of `image`, or (image empty) of every image in the namespace, each run keeping
    the newest `keep` of the schedule's own. The first run is at the scheduler's next look."""
    namespace = validate_namespace(namespace)
    if image:
        validate_object_name(image, field="image")
    _validate_schedule(frequency, keep)
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.OPERATOR)
    if image:
        with open_image(cluster, pool, namespace, image, read_only=True):
            pass  # a schedule for an image that does not exist would only ever fail
    else:
        with open_ioctx(cluster, pool, namespace):
            pass
    where = image_spec(pool, namespace, image) if image else f"every image of {image_spec(pool, namespace, '')}"
    try:
        return SnapshotSchedule.objects.create(
            cluster=cluster,
            pool=pool,
            namespace=namespace,
            image=image,
            frequency=frequency,
            keep=keep,
            created_by=actor if signed_in(actor) else None,
            next_run=timezone.now(),
        )
    except IntegrityError:
        raise Conflict(
            f"There is already a {frequency} snapshot schedule for {where}; delete it or change its retention.",
            code="snapshot_schedule_exists",
        ) from None


@audited_action("storage.snapshot_schedule.delete", target=("cluster", "pool", "namespace", "schedule_id"))
def snapshot_schedule_delete(
    *, actor: Actor, cluster: CephCluster, pool: str, namespace: str, schedule_id: int
) -> None:
    """Stops the schedule; the snapshots it took stay (they are ordinary snapshots from then on, deleted
    like any other)."""
    namespace = validate_namespace(namespace)
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.OPERATOR)
    snapshot_schedule_get(
        actor=actor, cluster=cluster, pool=pool, namespace=namespace, schedule_id=schedule_id
    ).delete()


# --- Running the schedules ----------------------------------------------------------------------


def _following_run(schedule: SnapshotSchedule, now: datetime) -> datetime:
    """The next slot after `now` on the schedule's grid: runs missed while no worker ran are not made
    up for one by one, and the times do not drift."""
    every = EVERY[schedule.frequency]
    following = schedule.next_run + every
    if following <= now:
        following += every * ((now - following) // every + 1)
    return following


def _images_of(schedule: SnapshotSchedule) -> list[str]:
    if schedule.image:
        return [schedule.image]
    with open_ioctx(schedule.cluster, schedule.pool, schedule.namespace) as ioctx:
        with translate_ceph_errors(
            schedule.cluster.name, f"listing images of {image_spec(schedule.pool, schedule.namespace, '')}"
        ):
            return sorted(entry["name"] for entry in rbd.RBD().list2(ioctx))


def _prune(schedule: SnapshotSchedule, image: str, result: dict[str, Any]) -> None:
    cluster, spec = schedule.cluster, image_spec(schedule.pool, schedule.namespace, image)
    with open_image(cluster, schedule.pool, schedule.namespace, image) as handle:
        with translate_ceph_errors(cluster.name, f"listing snapshots of {spec}"):
            own = _own_snapshots(schedule, [snap["name"] for snap in handle.list_snaps()])
        for name in own[: max(0, len(own) - schedule.keep)]:
            with translate_ceph_errors(cluster.name, f"pruning snapshot {spec}@{name}"):
                if handle.is_protected_snap(name):
                    handle.set_snap(name)
                    clones = sum(1 for _ in handle.list_children2())
                    handle.set_snap(None)
                    result["kept"].append(
                        f"{spec}@{name}: protected, with {clones} clone(s) depending on it; it stays until they "
                        "are flattened or deleted and it is unprotected"
                    )
                    continue
                handle.remove_snap(name)
            result["pruned"].append(f"{spec}@{name}")


def _run_one(schedule: SnapshotSchedule, owner: Tenant | None, now: datetime) -> dict[str, Any]:
    """Take the schedule's snapshot of each of its images and prune its older ones; stop at the quota."""
    cluster = schedule.cluster
    name = snapshot_name(schedule, now)
    result: dict[str, Any] = {"taken": [], "pruned": [], "kept": [], "problems": [], "stopped": ""}
    try:
        targets = _images_of(schedule)
    except BerthError as error:
        result["problems"].append(error.message)
        return result
    for image in targets:
        spec = image_spec(schedule.pool, schedule.namespace, image)
        try:
            with (
                storage_tenancy.quota_guard(
                    tenant=owner,
                    change=storage_tenancy.ImageChange(
                        cluster, schedule.pool, schedule.namespace, image, adds_snapshot=True
                    ),
                ),
                open_image(cluster, schedule.pool, schedule.namespace, image) as handle,
                translate_ceph_errors(cluster.name, f"creating snapshot {spec}@{name}"),
            ):
                handle.create_snap(name)
        except QuotaExceeded as error:
            # Nothing pruned either: what would make room is the schedule's retention or the quota,
            # and both are a person's call.
            result["stopped"] = (
                f"Stopped at the snapshot quota before {spec}: {error.message} Lower this schedule's "
                "retention, delete snapshots, or ask for a larger quota."
            )
            break
        except BerthError as error:
            result["problems"].append(f"{spec}: {error.message}")
            continue
        result["taken"].append(f"{spec}@{name}")
        try:
            _prune(schedule, image, result)
        except BerthError as error:
            result["problems"].append(f"{spec}: {error.message}")
    return result


def _outcome(result: dict[str, Any]) -> tuple[str, str]:
    if result["stopped"]:
        return SnapshotSchedule.STOPPED_AT_QUOTA, result["stopped"]
    if result["problems"]:
        return SnapshotSchedule.PROBLEMS, "; ".join(result["problems"])
    message = f"Took {len(result['taken'])} snapshot(s), pruned {len(result['pruned'])}."
    if result["kept"]:
        message += " Not pruned: " + "; ".join(result["kept"]) + "."
    return SnapshotSchedule.OK, message


def snapshot_schedules_run(*, now: datetime | None = None) -> dict[str, Any]:
    """Run every due schedule once; answer each run's result by schedule id."""
    now = now or timezone.now()
    results: dict[str, Any] = {}
    for schedule in SnapshotSchedule.objects.filter(next_run__lte=now).select_related("cluster"):
        # Claimed before the work, so a run is never doubled: an overlapping job, or a worker that took
        # over from one that died after claiming, finds next_run moved on and leaves it.
        claimed = SnapshotSchedule.objects.filter(pk=schedule.pk, next_run=schedule.next_run).update(
            next_run=_following_run(schedule, now)
        )
        if not claimed:
            continue
        binding = storage_tenancy.binding_for(schedule.cluster, schedule.pool, schedule.namespace)
        result = _run_one(schedule, binding.tenant if binding else None, now)
        outcome, message = _outcome(result)
        SnapshotSchedule.objects.filter(pk=schedule.pk).update(last_run=now, last_outcome=outcome, last_message=message)
        record_event(
            actor=None,
            action="storage.snapshot_schedule.run",
            target={
                "cluster": schedule.cluster.name,
                "pool": schedule.pool,
                "namespace": schedule.namespace,
                "image": schedule.image,
                "schedule_id": schedule.pk,
            },
            parameters={"frequency": schedule.frequency, "keep": schedule.keep, **result},
            outcome="success" if outcome == SnapshotSchedule.OK else "failed",
            error="" if outcome == SnapshotSchedule.OK else message,
            tenant=binding.tenant if binding else None,
        )
        results[str(schedule.pk)] = {"outcome": outcome, "message": message, **result}
    return results


@periodic(
    "storage.snapshot_schedules.run",
    every=lambda: timedelta(minutes=settings.BERTH_SNAPSHOT_SCHEDULE_MINUTES),
    description="Take the snapshots of due snapshot schedules and prune each schedule's older ones",
    audit_runs=False,
)
def run_snapshot_schedules(*, progress: ProgressCallback) -> dict[str, Any]:
    """Each schedule's run is its own audit event; the job's own start and end would add nothing."""
    return {"schedules": snapshot_schedules_run()}
