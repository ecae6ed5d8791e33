"""Plain helpers the tests share: an admin CLI to set up and inspect the real Ceph cluster
independently of Berth, unique names, waiting for background tasks, Kubernetes objects the
registry tests make and read with the admin client, tenant fixtures' building blocks, and the
search for leaked passwords."""

import base64
import datetime as dt
import errno
import json
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser

import rados
import rbd as librbd
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import OperationalError, connection
from django.urls import reverse
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from rest_framework.test import APIClient

from dashboard.audit.models import AuditEvent
from dashboard.tasks.models import BackgroundTask
from dashboard.tasks.services import task_get
from dashboard.tenancy.models import Membership, Tenant
from dashboard.tenancy.tokens import api_token_create

RANK = {"viewer": 1, "operator": 2, "admin": 3}  # a tenant role may do all a lower one may


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# --- Ceph ----------------------------------------------------------------------------------------


# Taken at import: tests that spy on Berth's librbd calls replace these classes in the module, and the
# admin's own set-up must neither show up among those calls nor go through a test's stand-in.
_RBD, _Image = librbd.RBD, librbd.Image
_SIZE_UNITS = {"M": 1 << 20, "G": 1 << 30}


def _bytes(size: str | int) -> int:
    """A size as the `rbd` CLI takes it ("64M", "2G") or in bytes."""
    if isinstance(size, int):
        return size
    return int(size[:-1]) * _SIZE_UNITS[size[-1]]


def _split_spec(spec: str) -> tuple[str, str, str]:
    """(pool, namespace, name) of "pool/name" or "pool/namespace/name"."""
    pool, *namespace, name = spec.split("/")
    return pool, "/".join(namespace), name


class AdminCli:
    """client.admin of the session's dev cluster, independent of Berth: one librados connection for
    setting things up and reading them back (a `ceph` or `rbd` process would connect and authenticate
    anew for each step, and `ceph` starts a Python interpreter), and the `ceph` and `rbd` CLIs for tests
    that check what those show."""

    def __init__(self, endpoints):
        self.endpoints = endpoints
        self.base = ["-c", str(endpoints.conf), "-n", "client.admin", "-k", str(endpoints.admin_keyring)]
        self._connection: rados.Rados | None = None
        self._connecting = threading.Lock()

    def ceph(self, *args: str) -> str:
        return self._run("ceph", *args)

    def rbd(self, *args: str) -> str:
        return self._run("rbd", *args)

    def _run(self, tool: str, *args: str) -> str:
        result = subprocess.run([tool, *self.base, *args], capture_output=True, text=True, timeout=120)
        if result.returncode:
            raise AssertionError(f"{tool} {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    # --- through librados / librbd ---

    @property
    def connection(self) -> rados.Rados:
        with self._connecting:
            if self._connection is None:
                connection = rados.Rados(
                    conffile=str(self.endpoints.conf),
                    name="client.admin",
                    conf={
                        "keyring": str(self.endpoints.admin_keyring),
                        # The CLIs' admin socket path is per entity: this long-lived client would take it from them.
                        "admin_socket": "",
                        # As long as the CLI calls were given, rather than librados' default of waiting forever.
                        "client_mount_timeout": "120",
                        "rados_mon_op_timeout": "120",
                        "rados_osd_op_timeout": "120",
                    },
                )
                connection.connect()
                self._connection = connection
            return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.shutdown()
            self._connection = None

    def mon(self, prefix: str, **arguments) -> str:
        """A monitor command, as `ceph PREFIX ...` sends it."""
        code, out, status = self.connection.mon_command(json.dumps({"prefix": prefix, **arguments}), b"")
        if code:
            # Worded as the CLI reports it ("Error ENOENT: ..."), which tests look for.
            raise AssertionError(
                f"ceph {prefix} {arguments} failed: Error {errno.errorcode.get(-code, code)}: {status}"
            )
        return out.decode()

    @contextmanager
    def ioctx(self, pool: str, namespace: str = "") -> Iterator[rados.Ioctx]:
        with self.connection.open_ioctx(pool) as ioctx:
            ioctx.set_namespace(namespace)
            yield ioctx

    @contextmanager
    def image(self, spec: str) -> Iterator[librbd.Image]:
        pool, namespace, name = _split_spec(spec)
        with self.ioctx(pool, namespace) as ioctx, _Image(ioctx, name) as image:
            yield image

    def create_pool(self, name: str) -> None:
        self.mon("osd pool create", pool=name, pg_num=8)
        self.mon("osd pool application enable", pool=name, app="rbd")

    def delete_pool(self, name: str) -> None:
        self.mon("osd pool rm", pool=name, pool2=name, yes_i_really_really_mean_it=True)

    def pools(self) -> list[str]:
        return json.loads(self.mon("osd pool ls", format="json"))

    def wait_for_pool_in_df(self, name: str, timeout: float = 30) -> None:
        """`ceph df` is answered from the manager's digest, which learns of a new pool a moment after the monitors."""
        deadline = time.monotonic() + timeout
        while name not in {pool["name"] for pool in json.loads(self.mon("df", format="json"))["pools"]}:
            if time.monotonic() > deadline:
                raise AssertionError(f"pool {name} did not appear in `ceph df` within {timeout} s")
            time.sleep(0.2)

    def create_namespace(self, place: str) -> None:
        """`rbd namespace create POOL/NAMESPACE`."""
        pool, namespace = place.split("/")
        with self.ioctx(pool) as ioctx:
            _RBD().namespace_create(ioctx, namespace)

    def create_image(
        self,
        spec: str,
        size: str | int,
        *,
        features: int | None = None,
        snapshots: tuple[str, ...] = (),
        protected: tuple[str, ...] = (),
        metadata: dict[str, str] | None = None,
    ) -> None:
        """`rbd create --size SIZE SPEC` (features: the cluster's default unless given), then `rbd snap create`
        of each snapshot in order, `rbd snap protect` of `protected` ones and `rbd image-meta set` of `metadata`."""
        pool, namespace, name = _split_spec(spec)
        with self.ioctx(pool, namespace) as ioctx:
            _RBD().create(ioctx, name, _bytes(size), old_format=False, features=features)
            if snapshots or metadata:
                with _Image(ioctx, name) as image:
                    for snapshot in snapshots:
                        image.create_snap(snapshot)
                    for snapshot in protected:
                        image.protect_snap(snapshot)
                    for key, value in (metadata or {}).items():
                        image.metadata_set(key, value)

    def create_snapshot(self, spec: str, *, protect: bool = False) -> None:
        """`rbd snap create IMAGE@SNAPSHOT` (and `rbd snap protect` of it)."""
        image_spec, snapshot = spec.split("@")
        with self.image(image_spec) as image:
            image.create_snap(snapshot)
            if protect:
                image.protect_snap(snapshot)

    def clone(self, parent: str, child: str) -> None:
        """`rbd clone POOL/[NAMESPACE/]IMAGE@SNAPSHOT CHILD` (the child with the cluster's default features)."""
        parent_spec, snapshot = parent.split("@")
        parent_pool, parent_namespace, parent_name = _split_spec(parent_spec)
        child_pool, child_namespace, child_name = _split_spec(child)
        with self.ioctx(parent_pool, parent_namespace) as source, self.ioctx(child_pool, child_namespace) as target:
            _RBD().clone(source, parent_name, snapshot, target, child_name)

    def remove_image(self, spec: str) -> None:
        pool, namespace, name = _split_spec(spec)
        with self.ioctx(pool, namespace) as ioctx:
            _RBD().remove(ioctx, name)

    def images(self, place: str, prefix: str = "") -> dict[str, dict]:
        """Each image of POOL[/NAMESPACE] (named with `prefix`) by name, as `rbd ls -l` and `rbd info` show it
        (see `_described`)."""
        pool, _, namespace = place.partition("/")
        with self.ioctx(pool, namespace) as ioctx:
            return {
                entry["name"]: self._described(ioctx, entry["id"])
                for entry in _RBD().list2(ioctx)
                if entry["name"].startswith(prefix)
            }

    def trash(self, place: str, prefix: str = "") -> dict[str, dict]:
        """Each image in POOL[/NAMESPACE]'s trash (named with `prefix`) by id, as `rbd trash ls` and
        `rbd info --image-id` show it."""
        pool, _, namespace = place.partition("/")
        with self.ioctx(pool, namespace) as ioctx:
            return {
                entry["id"]: {"name": entry["name"], **self._described(ioctx, entry["id"])}
                for entry in _RBD().trash_list(ioctx)
                if entry["name"].startswith(prefix)
            }

    @staticmethod
    def _described(ioctx: rados.Ioctx, image_id: str) -> dict:
        """id, size, features (a bit mask), parent (None or librbd's spec of it), snapshots ({name: (size,
        protected)}) and metadata (QoS overrides are its conf_ keys) of one image."""
        with _Image(ioctx, image_id=image_id, read_only=True) as image:
            try:
                parent = image.get_parent_image_spec()
            except librbd.ImageNotFound:
                parent = None
            return {
                "id": image.id(),
                "size": image.size(),
                "features": image.features(),
                "parent": parent,
                "snapshots": {
                    snapshot["name"]: (snapshot["size"], image.is_protected_snap(snapshot["name"]))
                    for snapshot in image.list_snaps()
                },
                "metadata": dict(image.metadata_list()),
            }

    def empty(self, place: str) -> None:
        """`rbd rm` of every image in POOL[/NAMESPACE], then `rbd trash purge` of it."""
        pool, _, namespace = place.partition("/")
        with self.ioctx(pool, namespace) as ioctx:
            for entry in _RBD().list2(ioctx):
                _RBD().remove(ioctx, entry["name"])
            _RBD().trash_purge(ioctx)

    def trash_image(self, spec: str) -> None:
        """`rbd trash mv SPEC`."""
        pool, namespace, name = _split_spec(spec)
        with self.ioctx(pool, namespace) as ioctx:
            _RBD().trash_move(ioctx, name, 0)


def audit_writes_done() -> None:
    """Waits for the threads that re-write an event its rolled-back transaction took with it
    (dashboard/audit/services.py, `_record_surviving_rollback`)."""
    for thread in threading.enumerate():
        if thread.name.startswith("berth-audit-"):
            thread.join(timeout=30)


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

    A deleted namespace stays Terminating while the namespace controller empties it, so every user
    gets a name of its own rather than reusing one.
    """
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        core.delete_namespace(name)


def wait_for_service_account(
    core: client.CoreV1Api, namespace: str, name: str = "default", timeout: float = 30
) -> client.V1ServiceAccount:
    """The account once it exists: the controller manager creates `default` moments after its namespace."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return core.read_namespaced_service_account(name, namespace)
        except ApiException as error:
            if error.status != 404:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"service account {name} did not appear in namespace {namespace} within {timeout} s")
        time.sleep(0.1)


def wait_until_namespace_gone(core: client.CoreV1Api, namespace: str, timeout: float = 60) -> None:
    """Returns once the namespace controller has emptied and removed a deleted namespace."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            core.read_namespace(namespace)
        except ApiException as error:
            if error.status == 404:
                return
            raise
        if time.monotonic() > deadline:
            raise AssertionError(f"namespace {namespace} still exists {timeout} s after its deletion")
        time.sleep(0.2)


def create_service_account(
    core: client.CoreV1Api, namespace: str, name: str, pull_secrets: tuple[str, ...] = ()
) -> None:
    """An account besides `default`, which the controller manager makes in every namespace."""
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


def failing_pod(
    core, namespace, name, image, *, reason="ImagePullBackOff", pull_secrets=None, service_account="default"
):
    """A pod whose container waits in `reason`, with the kubelet's event: no kubelet runs, so the
    waiting state goes in through the status subresource and the event is made with the admin client."""
    pod = core.create_namespaced_pod(
        namespace,
        client.V1Pod(
            metadata=client.V1ObjectMeta(name=name),
            spec=client.V1PodSpec(
                service_account_name=service_account,
                containers=[client.V1Container(name="main", image=image)],
                image_pull_secrets=[client.V1LocalObjectReference(name=s) for s in pull_secrets]
                if pull_secrets
                else None,
            ),
        ),
    )
    core.patch_namespaced_pod_status(
        name,
        namespace,
        {
            "status": {
                "containerStatuses": [
                    {
                        "name": "main",
                        "image": image,
                        "imageID": "",
                        "ready": False,
                        "restartCount": 0,
                        "state": {"waiting": {"reason": reason, "message": f'Back-off pulling image "{image}"'}},
                    }
                ]
            }
        },
        _content_type="application/strategic-merge-patch+json",
    )
    now = dt.datetime.now(dt.UTC)
    core.create_namespaced_event(
        namespace,
        client.CoreV1Event(
            metadata=client.V1ObjectMeta(name=f"{name}.{uuid.uuid4().hex[:8]}"),
            involved_object=client.V1ObjectReference(
                kind="Pod", name=name, namespace=namespace, uid=pod.metadata.uid, api_version="v1"
            ),
            reason="Failed",
            type="Warning",
            count=4,
            first_timestamp=now,
            last_timestamp=now,
            message=f'Failed to pull image "{image}": unauthorized: authentication required',
            source=client.V1EventSource(component="kubelet", host="node-1"),
        ),
    )
    return pod


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


# --- leaked secrets ------------------------------------------------------------------------------


def password_forms(password: str, username: str) -> list[str]:
    """A registry password as it may leak: plain, and inside an `auth` value."""
    return [password, base64.b64encode(f"{username}:{password}".encode()).decode()]


def stored_text() -> dict[str, str]:
    """What Berth's database holds, as text to search: every table's rows, the sessions decoded
    (their stored form is signed and compressed, so a password inside would not show), and the
    audit events' recorded fields."""
    tables = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            tables.append(f"{table}: {cursor.fetchall()!r}")
    return {
        "database": "\n".join(tables),
        "sessions": "\n".join(json.dumps(session.get_decoded()) for session in Session.objects.all()),
        "audit": json.dumps(
            [[event.action, event.target, event.parameters, event.error] for event in AuditEvent.objects.all()]
        ),
    }


def leaks(canaries: list[str], places: dict[str, str]) -> list[str]:
    return [f"{where}: {canary}" for where, text in places.items() for canary in canaries if canary in text]


# --- HTML forms ----------------------------------------------------------------------------------


class _FormFields(HTMLParser):
    """The values a browser would submit from one form: text and hidden inputs, checked boxes,
    selected options, textareas. Django admin's inline templates (`__prefix__`) are left out."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside or "__prefix__" in (attrs.get("name") or ""):
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields[name] = attrs.get("value", "on")
            elif kind not in ("submit", "button", "file"):
                self.fields[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def form_fields(html: str, form_id: str) -> dict[str, str]:
    parser = _FormFields(form_id)
    parser.feed(html)
    return parser.fields


def admin_tenant_form(browser, tenant: Tenant) -> tuple[str, dict[str, str]]:
    """(url, data) of the Django admin's change form of a tenant, as a browser would submit it unchanged."""
    url = reverse("admin:tenancy_tenant_change", args=[tenant.pk])
    page = browser.get(url)
    assert page.status_code == 200, page.status_code
    return url, {**form_fields(page.content.decode(), "tenant_form"), "_save": "Save"}


def binding_row(data: dict[str, str], binding) -> str:
    """The prefix of a storage binding's inline row in `admin_tenant_form`'s data (storage_bindings-N)."""
    [row] = [
        name.removesuffix("-id")
        for name, value in data.items()
        if name.startswith("storage_bindings-") and name.endswith("-id") and value == str(binding.pk)
    ]
    return row


def api_token_for(user) -> str:
    """A new API token's key, made as its owner makes one on the API tokens page."""
    _token, key = api_token_create(actor=user, name=unique_name("test-token"))
    return key
