"""Plain helpers the tests share: an admin CLI to set up and inspect the real Ceph cluster
independently of Berth, unique names, waiting for background tasks, Kubernetes objects the
registry tests make and read with the admin client, and tenant fixtures' building blocks."""

import base64
import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.db import OperationalError
from kubernetes import client
from rest_framework.test import APIClient

from dashboard.tasks.models import BackgroundTask
from dashboard.tasks.services import task_get
from dashboard.tenancy.models import Membership, Tenant
from dashboard.tenancy.tokens import api_token_create

RANK = {"viewer": 1, "operator": 2, "admin": 3}  # a tenant role may do all a lower one may


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# --- Ceph ----------------------------------------------------------------------------------------


class AdminCli:
    """`ceph` and `rbd` as client.admin of the session's dev cluster."""

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


# --- Kubernetes ----------------------------------------------------------------------------------


@contextmanager
def temporary_namespace(core: client.CoreV1Api, prefix: str = "berth-test") -> Iterator[str]:
    """A new namespace, deleted afterwards.

    Without a controller-manager a deleted namespace stays Terminating, so every user gets a
    name of its own rather than reusing one.
    """
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        core.delete_namespace(name)


def create_service_account(
    core: client.CoreV1Api, namespace: str, name: str = "default", pull_secrets: tuple[str, ...] = ()
) -> None:
    # No controller-manager runs, so not even `default` exists until a test makes it.
    core.create_namespaced_service_account(
        namespace,
        client.V1ServiceAccount(
            metadata=client.V1ObjectMeta(name=name),
            image_pull_secrets=[client.V1LocalObjectReference(name=secret) for secret in pull_secrets] or None,
        ),
    )


def stored_config(core: client.CoreV1Api, namespace: str, name: str) -> tuple[str, dict]:
    """(type, decoded document) of a secret, read with the admin client."""
    secret = core.read_namespaced_secret(name, namespace)
    [value] = secret.data.values()
    return secret.type, json.loads(base64.b64decode(value))


def decoded_auth(entry: dict) -> str:
    return base64.b64decode(entry["auth"]).decode()


def linked_secrets(core: client.CoreV1Api, namespace: str, account: str = "default") -> list[str]:
    found = core.read_namespaced_service_account(account, namespace)
    return [reference.name for reference in found.image_pull_secrets or ()]


# --- tenants -------------------------------------------------------------------------------------


def two_tenants() -> tuple[Tenant, Tenant, dict, object]:
    """Tenants "Team A" (team-a) and "Team B" (team-b), a member of tenant A in each role and an
    admin of tenant B only: (a, b, {role: member of A}, admin of B)."""
    users = get_user_model().objects
    a = Tenant.objects.create(name="Team A", slug="team-a")
    b = Tenant.objects.create(name="Team B", slug="team-b")
    members = {}
    for role in RANK:
        members[role] = users.create_user(f"a-{role}", password="pw-not-used-0")
        Membership.objects.create(user=members[role], tenant=a, role=role)
    outsider = users.create_user("b-admin", password="pw-not-used-0")
    Membership.objects.create(user=outsider, tenant=b, role="admin")
    return a, b, members, outsider


def api_client_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def api_token_for(user) -> str:
    """A new API token's key, made as its owner makes one on the API tokens page."""
    _token, key = api_token_create(actor=user, name=unique_name("test-token"))
    return key
