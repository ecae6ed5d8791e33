"""A worker killed mid-task leaves nothing stuck: a real `manage.py berth_worker` process is killed
(SIGKILL) while it copies an image, and a second worker, started afterwards, fails the task with a
message, releases its quota reservation, removes the partial copy and records it in the audit log."""

import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from dashboard.audit.models import AuditEvent
from dashboard.tasks.models import BackgroundTask
from dashboard.tenancy.models import Tenant
from storage.models import StorageBinding, StorageQuota
from storage.services import images
from storage.services.tenancy import tenant_storage_usage
from tests.services.berth import start_worker as berth_worker

pytestmark = [pytest.mark.integration, pytest.mark.own_workers, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
MiB = 1 << 20
HEARTBEAT, STALE_AFTER = 1, 3


def start_worker(name: str, tmp_path: Path) -> subprocess.Popen:
    return berth_worker(
        f"sqlite:///{connection.settings_dict['NAME']}",
        name=name,
        log=tmp_path / f"{name}.log",
        BERTH_TASK_HEARTBEAT=str(HEARTBEAT),
        BERTH_TASK_STALE_AFTER=str(STALE_AFTER),
    )


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def slow_source(ceph_admin, storage_pool):
    """An image whose copy takes seconds: 64 MiB of data read at most 8 MiB/s (librbd's QoS throttles
    the copy's reads as it throttles any client's)."""
    name = f"src-{uuid.uuid4().hex[:6]}"
    spec = f"{storage_pool}/tenant-ns/{name}"
    ceph_admin.create_namespace(f"{storage_pool}/tenant-ns")
    ceph_admin.create_image(spec, "128M")
    ceph_admin.rbd("bench", "--io-type", "write", "--io-size", "4M", "--io-total", "64M", "--io-pattern", "seq", spec)
    ceph_admin.rbd("config", "image", "set", spec, "rbd_qos_read_bps_limit", str(8 * MiB))
    yield name
    ceph_admin.rbd("remove", spec)


def test_a_worker_killed_mid_copy_leaves_nothing_stuck(
    ceph_cluster, ceph_admin, storage_pool, slow_source, admin_user, tmp_path
):
    assert settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    tenant = Tenant.objects.create(name="Copiers", slug="copiers")
    StorageBinding.objects.create(tenant=tenant, cluster=ceph_cluster, pool=storage_pool, namespace="tenant-ns")
    StorageQuota.objects.create(tenant=tenant, max_provisioned_gib=10)
    usage_before = tenant_storage_usage(tenant)

    first = start_worker("doomed-worker", tmp_path)
    try:
        task = images.image_copy(
            actor=admin_user,
            cluster=ceph_cluster,
            pool=storage_pool,
            namespace="tenant-ns",
            name=slow_source,
            dest_pool=storage_pool,
            dest_namespace="tenant-ns",
            dest_name="the-copy",
        )
        # The reservation counts while the task is queued or running (and the partial copy once it exists).
        assert tenant_storage_usage(tenant).provisioned_bytes >= usage_before.provisioned_bytes + 128 * MiB
        wait_until(
            lambda: BackgroundTask.objects.get(pk=task.pk).status == BackgroundTask.RUNNING,
            30,
            "the worker to start the copy",
        )
        listing = lambda: ceph_admin.rbd("ls", f"{storage_pool}/tenant-ns").split()  # noqa: E731
        wait_until(lambda: "the-copy" in listing(), 30, "the partial copy to appear")
        first.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()

    assert BackgroundTask.objects.get(pk=task.pk).status == BackgroundTask.RUNNING  # nobody knows yet
    second = start_worker("next-worker", tmp_path)
    try:
        wait_until(
            lambda: BackgroundTask.objects.filter(pk=task.pk, status=BackgroundTask.FAILED).exists(),
            STALE_AFTER + 20,
            "the task to be failed as abandoned",
        )
        seconds_to_failed = time.monotonic() - killed_at
        abandoned = wait_until(
            lambda: AuditEvent.objects.filter(action="storage.image.copy", parameters__phase="abandoned").first(),
            30,
            "the clean-up to finish and be recorded",
        )
    finally:
        second.terminate()
        second.wait(10)

    failed = BackgroundTask.objects.get(pk=task.pk)
    assert "Its worker (doomed-worker) stopped while running it" in failed.message
    assert f"The partial copy {storage_pool}/tenant-ns/the-copy was removed." in failed.message
    assert "the-copy" not in listing()
    assert tenant_storage_usage(tenant) == usage_before
    assert (abandoned.outcome, abandoned.source, abandoned.tenant_slug) == ("failed", "task", "copiers")
    assert abandoned.parameters["task_id"] == str(task.pk)
    print(f"worker killed -> task failed in {seconds_to_failed:.1f} s (stale after {STALE_AFTER} s)")
    assert seconds_to_failed < STALE_AFTER + 2 * HEARTBEAT + 10
