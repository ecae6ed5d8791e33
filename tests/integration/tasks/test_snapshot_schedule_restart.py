"""A snapshot schedule survives a worker restart: a real `manage.py berth_worker` process runs the
schedule once and is killed (SIGKILL); the schedule's next run comes due and is queued while no worker
runs; a new worker process takes it, and the run happens exactly once (no snapshot doubled, one audit
event per run). The schedule and the queue live in the database, not in any worker."""

import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection

from dashboard.audit.models import AuditEvent
from dashboard.tasks.models import BackgroundTask
from dashboard.tasks.scheduler import periodic_jobs, scheduler_tick
from storage.models import SnapshotSchedule
from storage.services.images import image_create
from storage.services.snapshot_schedules import snapshot_prefix, snapshot_schedule_create
from tests.helpers import unique_name
from tests.services.berth import start_worker as berth_worker

pytestmark = [pytest.mark.integration, pytest.mark.own_workers, pytest.mark.django_db(transaction=True)]

JOB = "storage.snapshot_schedules.run"


def start_worker(name: str, tmp_path: Path) -> subprocess.Popen:
    return berth_worker(f"sqlite:///{connection.settings_dict['NAME']}", name=name, log=tmp_path / f"{name}.log")


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def finished(task: BackgroundTask) -> BackgroundTask | None:
    current = BackgroundTask.objects.get(pk=task.pk)
    return current if current.is_finished else None


def test_the_next_run_happens_once_after_the_worker_is_killed_and_another_starts(
    ceph_cluster, ceph_admin, storage_pool, admin_user, tmp_path
):
    namespace = unique_name("restart")
    ceph_admin.create_namespace(f"{storage_pool}/{namespace}")
    where = {"cluster": ceph_cluster, "pool": storage_pool, "namespace": namespace}
    image_create(actor=admin_user, **where, name="vol", size="64MiB")
    schedule = snapshot_schedule_create(actor=admin_user, **where, image="vol", frequency="hourly", keep=24)

    def own_snapshots() -> list[str]:
        listed = ceph_admin.rbd("snap", "ls", f"{storage_pool}/{namespace}/vol").split()
        return sorted(name for name in listed if name.startswith(snapshot_prefix(schedule)))

    now = datetime.now(UTC)
    first_worker = start_worker("first-worker", tmp_path)
    try:
        [first_run] = [task for task in scheduler_tick(now=now) if task.name == JOB]
        done = wait_until(lambda: finished(first_run), 60, "the first run")
        assert done.status == BackgroundTask.SUCCEEDED, done.message
        assert done.worker.startswith("first-worker")
        assert len(own_snapshots()) == 1
    finally:
        first_worker.send_signal(signal.SIGKILL)
        first_worker.wait(10)

    # An hour on: the schedule is due and the scheduler queues the job, but no worker is running.
    SnapshotSchedule.objects.filter(pk=schedule.pk).update(next_run=datetime.now(UTC) - timedelta(seconds=1))
    [second_run] = [task for task in scheduler_tick(now=now + periodic_jobs()[JOB].every) if task.name == JOB]
    assert second_run.pk != first_run.pk
    time.sleep(2)
    assert BackgroundTask.objects.get(pk=second_run.pk).status == BackgroundTask.QUEUED
    assert len(own_snapshots()) == 1

    second_worker = start_worker("second-worker", tmp_path)
    try:
        done = wait_until(lambda: finished(second_run), 60, "the run after the restart")
        assert done.status == BackgroundTask.SUCCEEDED, done.message
        assert done.worker.startswith("second-worker")
        assert done.result["schedules"][str(schedule.pk)]["outcome"] == "ok"
        # Nothing else is due: a further tick of the job at once takes no snapshot.
        [third_run] = [task for task in scheduler_tick(now=now + 2 * periodic_jobs()[JOB].every) if task.name == JOB]
        assert wait_until(lambda: finished(third_run), 60, "the idle run").result == {"schedules": {}}
    finally:
        second_worker.terminate()
        second_worker.wait(10)

    assert len(own_snapshots()) == 2
    schedule.refresh_from_db()
    assert schedule.last_outcome == "ok" and schedule.next_run > datetime.now(UTC)
    runs = AuditEvent.objects.filter(action="storage.snapshot_schedule.run", target__schedule_id=schedule.pk)
    assert [event.outcome for event in runs] == ["success", "success"]
