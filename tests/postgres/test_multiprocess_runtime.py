"""Berth as a deployment runs it, on PostgreSQL: two gunicorn web processes and two task workers
sharing one database. Twenty copies are submitted through both web processes, one worker is killed
(SIGKILL) while it copies; in the end every task has succeeded or failed with a reason, none is
queued or running, no quota reservation counts any more and the audit chain verifies."""

import itertools
import signal
import time
import uuid

import pytest
import requests
from django.db import connection
from django.urls import reverse

from dashboard.audit.services import verify_chain
from dashboard.tasks.models import BackgroundTask
from dashboard.tenancy.models import Tenant
from storage.models import QuotaReservation, StorageBinding, StorageQuota
from storage.services.tenancy import tenant_storage_usage
from tests.fixtures.berth import TEST_PASSWORD
from tests.services.berth import berth_web, start_worker

pytestmark = [pytest.mark.integration, pytest.mark.own_workers, pytest.mark.django_db(transaction=True)]

COPIES = 20
MiB = 1 << 20
FAST = {"BERTH_TASK_HEARTBEAT": "1", "BERTH_TASK_STALE_AFTER": "3"}


def database_url() -> str:
    settings = connection.settings_dict
    return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def pool(ceph_admin):
    """A pool with namespace team-a holding a source image whose copy takes about a second
    (16 MiB of data, read at most 16 MiB/s through librbd's QoS)."""
    name = f"procs-{uuid.uuid4().hex[:8]}"
    ceph_admin.create_pool(name)
    ceph_admin.create_namespace(f"{name}/team-a")
    source = f"{name}/team-a/source"
    ceph_admin.create_image(source, "16M")
    ceph_admin.rbd("bench", "--io-type", "write", "--io-size", "4M", "--io-total", "16M", "--io-pattern", "seq", source)
    ceph_admin.rbd("config", "image", "set", source, "rbd_qos_read_bps_limit", str(16 * MiB))
    yield name
    ceph_admin.delete_pool(name)


def test_two_web_processes_and_two_workers_survive_a_killed_worker(
    ceph_cluster, ceph_admin, pool, admin_user, tmp_path
):
    tenant = Tenant.objects.create(name="Team A", slug="team-a")
    StorageBinding.objects.create(tenant=tenant, cluster=ceph_cluster, pool=pool, namespace="team-a")
    StorageQuota.objects.create(tenant=tenant, max_provisioned_gib=10)
    url = database_url()
    workers = [start_worker(url, name=f"worker-{n}", log=tmp_path / f"worker-{n}.log", **FAST) for n in (1, 2)]
    try:
        with (
            berth_web(url, log=tmp_path / "web-1.log", **FAST) as first,
            berth_web(url, log=tmp_path / "web-2.log", **FAST) as second,
        ):
            servers = itertools.cycle([first, second])
            api = requests.Session()
            api.get(first + reverse("login"))
            api.post(
                second + reverse("login"),
                {"username": admin_user.username, "password": TEST_PASSWORD},
                headers={"X-CSRFToken": api.cookies["csrftoken"]},
                allow_redirects=False,
            ).raise_for_status()
            copy_url = reverse("api:storage-image-copy", args=[pool, "source"]) + "?namespace=team-a"
            submitted = []
            for number in range(COPIES):
                response = api.post(
                    next(servers) + copy_url,
                    json={"dest_pool": pool, "dest_namespace": "team-a", "dest_name": f"copy-{number}"},
                    headers={"X-CSRFToken": api.cookies["csrftoken"]},
                )
                assert response.status_code == 202, response.text
                submitted.append(response.json()["id"])

            # Midway: once a few copies are done, kill worker-1 while it copies.
            wait_until(lambda: BackgroundTask.objects.filter(status="succeeded").count() >= 3, 120, "3 copies")
            wait_until(
                lambda: BackgroundTask.objects.filter(status="running", worker="worker-1").exists(),
                60,
                "worker-1 to be copying",
            )
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(10)
            wait_until(
                lambda: not BackgroundTask.objects.filter(pk__in=submitted, status__in=BackgroundTask.ACTIVE).exists(),
                240,
                "every task to finish",
            )
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(15)

    tasks = list(BackgroundTask.objects.filter(pk__in=submitted))
    assert len(tasks) == COPIES
    assert {task.status for task in tasks} <= {BackgroundTask.SUCCEEDED, BackgroundTask.FAILED}
    failed = [task for task in tasks if task.status == BackgroundTask.FAILED]
    assert all(task.message for task in failed)
    assert any("Its worker (worker-1) stopped while running it" in task.message for task in failed)
    assert not QuotaReservation.objects.filter(task__status__in=BackgroundTask.ACTIVE).exists()
    # What the tenant uses is exactly the source and the copies that succeeded: no reservation or partial copy.
    succeeded = sum(1 for task in tasks if task.status == BackgroundTask.SUCCEEDED)
    assert tenant_storage_usage(tenant).images == 1 + succeeded
    listed = set(ceph_admin.rbd("ls", f"{pool}/team-a").split())
    assert listed == {"source"} | {
        task.target["dest"].rsplit("/", 1)[1] for task in tasks if task.status == "succeeded"
    }
    report = verify_chain()
    assert report.intact, report.problem
