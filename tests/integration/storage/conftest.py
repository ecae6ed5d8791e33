"""Helpers for storage tests against the real dev cluster: an admin `ceph`/`rbd` CLI to set up
and inspect what Berth did independently of Berth, a fresh pool per test module, and a way
to wait for background tasks."""

import subprocess
import time
import uuid

import pytest
from django.db import OperationalError

from dashboard.models import BackgroundTask
from dashboard.tasks import task_get


class AdminCli:
    def __init__(self, endpoints):
        self.base = ["-c", str(endpoints.conf), "-n", "client.admin", "-k", str(endpoints.admin_keyring)]

    def ceph(self, *args: str) -> str:
        return self._run("ceph", *args)

    def rbd(self, *args: str) -> str:
        return self._run("rbd", *args)

    def _run(self, tool: str, *args: str) -> str:
        result = subprocess.run([tool, *self.base, *args], capture_output=True, text=True, timeout=120)
        if result.returncode:
            raise AssertionError(f"{tool} {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    def create_pool(self, name: str) -> None:
        self.ceph("osd", "pool", "create", name, "8")
        self.ceph("osd", "pool", "application", "enable", name, "rbd")

    def delete_pool(self, name: str) -> None:
        self.ceph("osd", "pool", "rm", name, name, "--yes-i-really-really-mean-it")

    def pools(self) -> list[str]:
        return self.ceph("osd", "pool", "ls").split()


@pytest.fixture(scope="session")
def ceph_admin(ceph_dev_cluster) -> AdminCli:
    return AdminCli(ceph_dev_cluster)


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def storage_pool(ceph_admin) -> str:
    """A pool of this test module's own, created with the admin CLI so that tests of Berth's
    pool services are not also their own setup."""
    name = unique_name("berth-test")
    ceph_admin.create_pool(name)
    yield name
    ceph_admin.delete_pool(name)


def wait_for_task(task: BackgroundTask, timeout: float = 60) -> BackgroundTask:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            current = task_get(actor=None, task_id=task.id)
        except OperationalError:  # the test database is SQLite; a worker may hold the table a moment
            time.sleep(0.05)
            continue
        if current.is_finished:
            return current
        time.sleep(0.1)
    raise AssertionError(f"task {task.name} {task.id} did not finish within {timeout} s")
