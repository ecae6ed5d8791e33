"""Every storage and registry API route, with every method it accepts, acts on exactly the object
its URL names (issue 13; the attack itself is tests/security/test_api_addressing.py).

Storage: one image name taken in two RBD namespaces of the module's pool, the default one and ns1
(of different sizes, so a copy shows its source). Registry: one secret name taken in two
Kubernetes namespaces (with different registry logins). Each request names one of the twins; for
GET the answer must be about that one, for every other method the other twin must be untouched
afterwards, read with Ceph's CLI and the Kubernetes admin client, independently of Berth.

The routes and methods come from the URL resolver: a new one fails here until it has a case, or an
entry in OUTSIDE_ANY_NAMESPACE saying why no namespace applies to it. The schema test checks that
the OpenAPI schema declares the namespace (storage: in the query, registry: in the path) on every
operation that has a case.
"""

import fnmatch
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any
from urllib.parse import urlencode

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from kubernetes import client as kube_client

from dashboard.tasks.models import BackgroundTask
from registry.dockerconfig import Credential
from registry.models import CredentialHealth, KubeCluster
from registry.services import secrets
from storage.models import CephCluster, SnapshotSchedule
from tests.helpers import AdminCli, api_client_as, create_service_account, failing_pod, unique_name, wait_for_task

# Transactional: storage's background tasks run in worker threads with their own connections.
pytestmark = [pytest.mark.integration, pytest.mark.long, pytest.mark.django_db(transaction=True)]

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _api_routes(resolver=None, prefix="", namespace=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            yield from _api_routes(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern) and re.match(r"api:(storage|registry)-", namespace + (entry.name or "")):
            view = entry.callback.view_class
            for method in METHODS:
                if hasattr(view, method.lower()):
                    yield f"{namespace}{entry.name}", method, "/" + prefix + str(entry.pattern)


ROUTES = {(route, method): pattern for route, method, pattern in _api_routes()}

# fnmatch patterns over "METHOD route" of requests that name no object inside a namespace.
OUTSIDE_ANY_NAMESPACE = {
    "* api:storage-pool-*": "a pool is named by its path alone; RBD namespaces are inside it",
    "GET api:storage-namespace-list": "lists the pool's RBD namespaces",
    "GET api:registry-namespace-list": "lists the cluster's Kubernetes namespaces",
    "POST api:registry-test-login": "tries a login at a registry; touches nothing in Kubernetes",
    "* api:registry-managed-secret-*": "a managed secret is a tenant's, kept in all its namespaces: tenant and name",
    "GET api:registry-credential-health": "lists the health records of every namespace the user may see",
    "* api:registry-notification-*": "notifications belong to a tenant, not to a namespace",
    "* api:registry-webhook-*": "webhooks are the platform's, outside any namespace",
    "POST api:registry-node-config": "builds a file for nodes in the response; touches nothing in Kubernetes",
}


def _outside(route: str, method: str) -> bool:
    return any(fnmatch.fnmatchcase(f"{method} {route}", pattern) for pattern in OUTSIDE_ANY_NAMESPACE)


# --- storage ----------------------------------------------------------------------------------

NS1 = "ns1"
SIZES = {"": 64 << 20, NS1: 96 << 20}


@dataclass
class Twins:
    """Images named `name` in the default namespace and in ns1; the request names `target`'s."""

    ceph: AdminCli
    pool: str
    name: str
    target: str

    @property
    def other(self) -> str:
        return NS1 if self.target == "" else ""

    def spec(self, namespace: str, name: str | None = None) -> str:
        return "/".join(part for part in (self.pool, namespace, name or self.name) if part)

    def _where(self, namespace: str) -> str:
        return f"{self.pool}/{namespace}" if namespace else self.pool

    def state(self, namespace: str) -> dict:
        """What the namespace holds under the twins' name (and names starting with it)."""
        images = self.ceph.images(self._where(namespace), prefix=self.name)
        schedules = SnapshotSchedule.objects.filter(pool=self.pool, namespace=namespace, image__startswith=self.name)
        return {
            "images": images,
            "trash": self.trash(namespace),
            "schedules": sorted(schedules.values_list("pk", "image", "frequency", "keep")),
        }

    def trash(self, namespace: str) -> dict[str, str]:
        return {
            entry_id: entry["name"] for entry_id, entry in self.ceph.trash(self._where(namespace), self.name).items()
        }

    def image_id(self, namespace: str) -> str:
        with self.ceph.image(self.spec(namespace)) as image:
            return image.id()

    def schedule_id(self, namespace: str) -> int:
        return SnapshotSchedule.objects.get(pool=self.pool, namespace=namespace, image=self.name).pk

    def trash_id(self, namespace: str) -> str:
        [entry_id] = [entry_id for entry_id, name in self.trash(namespace).items() if name == self.name]
        return entry_id


def _on_both(step: Callable[[Twins, str], None]) -> Callable[[Twins], None]:
    def prepare(twins: Twins) -> None:
        for namespace in SIZES:
            step(twins, namespace)

    return prepare


def _snapshot(twins: Twins, namespace: str, snapshot: str = "s") -> None:
    twins.ceph.create_snapshot(f"{twins.spec(namespace)}@{snapshot}")


def _protected(twins: Twins, namespace: str) -> None:
    twins.ceph.create_snapshot(f"{twins.spec(namespace)}@s", protect=True)


def _cloned(twins: Twins, namespace: str) -> None:
    _protected(twins, namespace)
    twins.ceph.clone(f"{twins.spec(namespace)}@s", twins.spec(namespace, f"{twins.name}-clone"))


def _grown_after_snapshot(twins: Twins, namespace: str) -> None:
    _snapshot(twins, namespace)
    with twins.ceph.image(twins.spec(namespace)) as image:
        image.resize(SIZES[namespace] + (64 << 20))


def _trashed(twins: Twins, namespace: str) -> None:
    twins.ceph.trash_image(twins.spec(namespace))


def _scheduled(twins: Twins, namespace: str) -> None:
    SnapshotSchedule.objects.create(
        cluster=CephCluster.objects.get(is_default=True),
        pool=twins.pool,
        namespace=namespace,
        image=twins.name,
        frequency=SnapshotSchedule.DAILY,
        keep=7,
        next_run=timezone.now() + timedelta(days=1),
    )


def _own_snapshot(twins: Twins, namespace: str) -> None:
    _snapshot(twins, namespace, f"only-in-{namespace or 'default'}")


def _empty_namespace(twins: Twins) -> None:
    twins.ceph.create_namespace(f"{twins.pool}/{twins.name}-ns")


# --- what a GET must answer, and what else an unsafe request must have done ---


def _lists_the_target(twins: Twins, body: dict) -> None:
    assert {image["namespace"] for image in body["results"]} == {twins.target}
    [image] = [image for image in body["results"] if image["name"] == twins.name]
    assert image["id"] == twins.image_id(twins.target)


def _is_the_target(twins: Twins, body: dict) -> None:
    assert (body["namespace"], body["id"], body["size"]) == (
        twins.target,
        twins.image_id(twins.target),
        SIZES[twins.target],
    )


def _target_snapshots(twins: Twins, body: list) -> None:
    assert [snap["name"] for snap in body] == [f"only-in-{twins.target or 'default'}"]


def _target_trash(twins: Twins, body: list) -> None:
    assert {entry["namespace"] for entry in body} <= {twins.target}
    assert [entry["id"] for entry in body if entry["name"] == twins.name] == [twins.trash_id(twins.target)]


def _target_schedules(twins: Twins, body: list) -> None:
    assert {schedule["namespace"] for schedule in body} == {twins.target}
    assert [schedule["id"] for schedule in body if schedule["image"] == twins.name] == [twins.schedule_id(twins.target)]


def _is_the_target_schedule(twins: Twins, body: dict) -> None:
    assert (body["namespace"], body["id"]) == (twins.target, twins.schedule_id(twins.target))


def _copy_of_the_target(twins: Twins, _body: dict) -> None:
    copy = twins.state(twins.target)["images"][f"{twins.name}-copy"]
    assert copy["size"] == SIZES[twins.target]


def _snapshot_copy(twins: Twins, _body: dict) -> None:
    copy = twins.state(twins.target)["images"][f"{twins.name}-copy"]
    assert (copy["size"], copy["parent"]) == (SIZES[twins.target], None)


def _clone_of_the_target(twins: Twins, body: dict) -> None:
    assert (body["namespace"], body["parent"]) == (twins.target, f"{twins.spec(twins.target)}@s")


def _namespaces(twins: Twins) -> list[str]:
    return [entry["name"] for entry in json.loads(twins.ceph.rbd("namespace", "ls", "--format", "json", twins.pool))]


def _namespace_created(twins: Twins, _body: Any) -> None:
    assert f"{twins.name}-ns" in _namespaces(twins)


def _namespace_deleted(twins: Twins, _body: Any) -> None:
    assert f"{twins.name}-ns" not in _namespaces(twins)


def _target_usage(twins: Twins, body: dict) -> None:
    assert (body["provisioned"], [s["name"] for s in body["snapshots"]]) == (
        SIZES[twins.target],
        [f"only-in-{twins.target or 'default'}"],
    )


def _own_qos(twins: Twins, namespace: str) -> None:
    with twins.ceph.image(twins.spec(namespace)) as image:
        image.config_set("rbd_qos_iops_limit", str(SIZES[namespace]))


def _target_qos(twins: Twins, body: list) -> None:
    assert {row["option"]: row["value"] for row in body}["rbd_qos_iops_limit"] == SIZES[twins.target]


def _qos_set_on_target(twins: Twins, _body: Any) -> None:
    assert "rbd_qos_iops_limit" in twins.ceph.rbd("config", "image", "list", twins.spec(twins.target))


def _features_of_target(twins: Twins, body: dict) -> None:
    assert body["id"] == twins.image_id(twins.target) and "object-map" not in body["features"]


def _own_metadata(twins: Twins, namespace: str) -> None:
    with twins.ceph.image(twins.spec(namespace)) as image:
        image.metadata_set("owner", namespace or "default")


def _target_metadata(twins: Twins, body: list) -> None:
    assert body == [{"key": "owner", "value": twins.target or "default", "managed_by_qos": False}]


@dataclass(frozen=True)
class StorageCase:
    kwargs: dict
    body: dict | None = None
    prepare: Callable[[Twins], None] | None = None
    check: Callable[[Twins, Any], None] | None = None
    # False where the named object is a namespace itself: then both twins are "the other".
    per_namespace: bool = True


IMAGE = {"name": "{name}"}
SNAPSHOT = {"name": "{name}", "snapshot": "s"}
TRASH_ENTRY = {"image_id": "{image_id}"}
SCHEDULE = {"schedule_id": "{schedule_id}"}
HERE = {"dest_pool": "{pool}", "dest_namespace": "{target}"}

STORAGE_CASES = {
    ("api:storage-image-list", "GET"): StorageCase({}, check=_lists_the_target),
    ("api:storage-image-list", "POST"): StorageCase({}, {"name": "{name}-new", "size": "64MiB"}),
    ("api:storage-image-detail", "GET"): StorageCase(IMAGE, check=_is_the_target),
    ("api:storage-image-detail", "PATCH"): StorageCase(IMAGE, {"size": "160MiB"}),
    ("api:storage-image-detail", "DELETE"): StorageCase(IMAGE),
    ("api:storage-image-copy", "POST"): StorageCase(
        IMAGE, {**HERE, "dest_name": "{name}-copy"}, check=_copy_of_the_target
    ),
    ("api:storage-image-usage", "GET"): StorageCase(IMAGE, prepare=_on_both(_own_snapshot), check=_target_usage),
    ("api:storage-image-qos", "GET"): StorageCase(IMAGE, prepare=_on_both(_own_qos), check=_target_qos),
    ("api:storage-image-qos", "PATCH"): StorageCase(IMAGE, {"rbd_qos_iops_limit": 7}, check=_qos_set_on_target),
    ("api:storage-image-features", "PATCH"): StorageCase(
        IMAGE, {"features": {"object-map": False, "fast-diff": False}}, check=_features_of_target
    ),
    ("api:storage-image-metadata-list", "GET"): StorageCase(
        IMAGE, prepare=_on_both(_own_metadata), check=_target_metadata
    ),
    ("api:storage-image-metadata-detail", "PUT"): StorageCase({**IMAGE, "key": "k"}, {"value": "v"}),
    ("api:storage-image-metadata-detail", "DELETE"): StorageCase(
        {**IMAGE, "key": "owner"}, prepare=_on_both(_own_metadata)
    ),
    ("api:storage-image-flatten", "POST"): StorageCase({"name": "{name}-clone"}, prepare=_on_both(_cloned)),
    ("api:storage-snapshot-list", "GET"): StorageCase(IMAGE, prepare=_on_both(_own_snapshot), check=_target_snapshots),
    ("api:storage-snapshot-list", "POST"): StorageCase(IMAGE, {"name": "new"}),
    ("api:storage-snapshot-detail", "DELETE"): StorageCase(SNAPSHOT, prepare=_on_both(_snapshot)),
    ("api:storage-snapshot-detail", "PATCH"): StorageCase(
        SNAPSHOT, {"new_name": "renamed"}, prepare=_on_both(_snapshot)
    ),
    ("api:storage-snapshot-copy", "POST"): StorageCase(
        SNAPSHOT, {**HERE, "dest_name": "{name}-copy"}, prepare=_on_both(_grown_after_snapshot), check=_snapshot_copy
    ),
    ("api:storage-snapshot-rollback", "POST"): StorageCase(SNAPSHOT, prepare=_on_both(_grown_after_snapshot)),
    ("api:storage-snapshot-protect", "POST"): StorageCase(SNAPSHOT, prepare=_on_both(_snapshot)),
    ("api:storage-snapshot-unprotect", "POST"): StorageCase(SNAPSHOT, prepare=_on_both(_protected)),
    ("api:storage-snapshot-clone", "POST"): StorageCase(
        SNAPSHOT, {**HERE, "dest_name": "{name}-clone"}, prepare=_on_both(_protected), check=_clone_of_the_target
    ),
    ("api:storage-trash-list", "GET"): StorageCase({}, prepare=_on_both(_trashed), check=_target_trash),
    ("api:storage-trash-purge", "POST"): StorageCase({}, prepare=_on_both(_trashed)),
    ("api:storage-trash-entry", "DELETE"): StorageCase(TRASH_ENTRY, prepare=_on_both(_trashed)),
    ("api:storage-trash-restore", "POST"): StorageCase(TRASH_ENTRY, prepare=_on_both(_trashed)),
    ("api:storage-snapshot-schedule-list", "GET"): StorageCase(
        {}, prepare=_on_both(_scheduled), check=_target_schedules
    ),
    ("api:storage-snapshot-schedule-list", "POST"): StorageCase(
        {}, {"image": "{name}", "frequency": "daily", "keep": 3}
    ),
    ("api:storage-snapshot-schedule-detail", "GET"): StorageCase(
        SCHEDULE, prepare=_on_both(_scheduled), check=_is_the_target_schedule
    ),
    ("api:storage-snapshot-schedule-detail", "DELETE"): StorageCase(SCHEDULE, prepare=_on_both(_scheduled)),
    ("api:storage-namespace-list", "POST"): StorageCase(
        {}, {"name": "{name}-ns"}, check=_namespace_created, per_namespace=False
    ),
    ("api:storage-namespace-detail", "DELETE"): StorageCase(
        {"name": "{name}-ns"}, prepare=_empty_namespace, check=_namespace_deleted, per_namespace=False
    ),
}


# --- registry ---------------------------------------------------------------------------------

LABELS = ("first", "second")
SHARED_SERVER = "shared.example.com"
NEW_LOGIN = {"server": "new.example.com", "username": "robot", "password": "Addressing-new-pw-3a1"}


@dataclass
class SecretTwins:
    """Secrets named `name` in two Kubernetes namespaces, each with a login for its own registry
    (`<label>.example.com`) and one for a shared one, linked to `default`; each namespace also
    has a service account `builder` and one of its own, `only-<label>`."""

    core: kube_client.CoreV1Api
    namespaces: dict[str, str]
    name: str
    target: str

    @property
    def other(self) -> str:
        return next(label for label in LABELS if label != self.target)

    @staticmethod
    def server(label: str) -> str:
        return f"{label}.example.com"

    def state(self, label: str) -> dict:
        """Every write to a secret or service account changes its resourceVersion."""
        namespace = self.namespaces[label]
        return {
            "secrets": {
                secret.metadata.name: (secret.metadata.resource_version, secret.data)
                for secret in self.core.list_namespaced_secret(namespace).items
                if secret.metadata.name.startswith(self.name)
            },
            "service_accounts": {
                account.metadata.name: account.metadata.resource_version
                for account in self.core.list_namespaced_service_account(namespace).items
            },
        }


def _failing_pods(twins: SecretTwins) -> None:
    for label, namespace in twins.namespaces.items():
        failing_pod(twins.core, namespace, f"pod-{label}", f"{twins.server(label)}/app:1")


def _target_accounts(twins: SecretTwins, body: dict) -> None:
    accounts = set(body["service_accounts"])
    assert f"only-{twins.target}" in accounts and f"only-{twins.other}" not in accounts


def _is_target_secret(twins: SecretTwins, secret: dict) -> None:
    assert (secret["namespace"], secret["name"]) == (twins.namespaces[twins.target], twins.name)
    assert sorted(entry["server"] for entry in secret["entries"]) == sorted([twins.server(twins.target), SHARED_SERVER])


def _lists_target_secret(twins: SecretTwins, body: list) -> None:
    assert {secret["namespace"] for secret in body} == {twins.namespaces[twins.target]}
    [secret] = [secret for secret in body if secret["name"] == twins.name]
    _is_target_secret(twins, secret)


def _target_pods(twins: SecretTwins, body: list) -> None:
    assert [(pod["namespace"], pod["pod"]) for pod in body] == [(twins.namespaces[twins.target], f"pod-{twins.target}")]


def _health_rows(twins: SecretTwins) -> None:
    for namespace in twins.namespaces.values():
        CredentialHealth.objects.create(
            kube_cluster=KubeCluster.objects.get(), namespace=namespace, secret_name=twins.name, registry=SHARED_SERVER
        )


def _target_health(twins: SecretTwins, body: list | dict) -> None:
    rows = body if isinstance(body, list) else [body]
    assert rows and {(row["namespace"], row["secret"]) for row in rows} == {
        (twins.namespaces[twins.target], twins.name)
    }


def _checked_with_target(twins: SecretTwins, body: dict) -> None:
    assert [(attempt["secret"], attempt["server"]) for attempt in body["attempts"]] == [
        (twins.name, twins.server(twins.target))
    ]


def _target_match(twins: SecretTwins, body: dict) -> None:
    assert (body["match"]["secret"], body["match"]["server"]) == (twins.name, twins.server(twins.target))


@dataclass(frozen=True)
class RegistryCase:
    kwargs: dict
    body: dict | None = None
    query: dict = field(default_factory=dict)
    prepare: Callable[[SecretTwins], None] | None = None
    check: Callable[[SecretTwins, Any], None] | None = None
    writes_kubernetes: bool = True
    """False for a request that records something in Berth only (a credential check); its check says what."""


IN_NAMESPACE = {"namespace": "{namespace}"}
SECRET = {"namespace": "{namespace}", "name": "{name}"}

REGISTRY_CASES = {
    ("api:registry-service-account-list", "GET"): RegistryCase(IN_NAMESPACE, check=_target_accounts),
    ("api:registry-secret-list", "GET"): RegistryCase(IN_NAMESPACE, check=_lists_target_secret),
    ("api:registry-secret-list", "POST"): RegistryCase(IN_NAMESPACE, {"name": "{name}", "registries": [NEW_LOGIN]}),
    # The one route whose namespaces are in the body: it names no existing object but the places
    # to create in, as `dest_namespace` does for a copy.
    ("api:registry-secret-bulk-create", "POST"): RegistryCase(
        {}, {"namespaces": ["{namespace}"], "name": "{name}", "registries": [NEW_LOGIN]}
    ),
    ("api:registry-secret-detail", "GET"): RegistryCase(SECRET, check=_is_target_secret),
    ("api:registry-secret-detail", "DELETE"): RegistryCase(SECRET, {"confirm_name": "{name}"}),
    ("api:registry-secret-rotate", "POST"): RegistryCase(
        SECRET, {"server": "{server}", "password": "Addressing-rotated-pw-7c2"}
    ),
    ("api:registry-secret-entries", "POST"): RegistryCase(SECRET, NEW_LOGIN),
    ("api:registry-secret-entries", "DELETE"): RegistryCase(SECRET, {"server": SHARED_SERVER}),
    ("api:registry-secret-link", "POST"): RegistryCase(SECRET, {"service_accounts": ["builder"]}),
    ("api:registry-secret-unlink", "POST"): RegistryCase(SECRET, {"service_accounts": ["default"]}),
    ("api:registry-doctor", "GET"): RegistryCase(IN_NAMESPACE, prepare=_failing_pods, check=_target_pods),
    ("api:registry-doctor-image", "GET"): RegistryCase(
        IN_NAMESPACE, query={"image": "{server}/app:1"}, check=_target_match
    ),
    ("api:registry-pull-check", "GET"): RegistryCase(
        IN_NAMESPACE, query={"image": "{server}/app:1"}, check=_checked_with_target
    ),
    ("api:registry-namespace-credential-health", "GET"): RegistryCase(
        IN_NAMESPACE, prepare=_health_rows, check=_target_health
    ),
    ("api:registry-credential-check", "POST"): RegistryCase(SECRET, {}, check=_target_health, writes_kubernetes=False),
    ("api:registry-credential-expiry", "POST"): RegistryCase(
        SECRET,
        {"registry": SHARED_SERVER, "expires_on": "2031-01-31"},
        prepare=_health_rows,
        check=_target_health,
        writes_kubernetes=False,
    ),
}


# --- the tests --------------------------------------------------------------------------------


def _filled(value: Any, names: dict) -> Any:
    if isinstance(value, str):
        return value.format_map(names)
    if isinstance(value, dict):
        return {key: _filled(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item, names) for item in value]
    return value


def _send(user, method: str, url: str, body: dict | None):
    response = getattr(api_client_as(user), method.lower())(url, body, format="json")
    assert response.status_code < 300, f"{method} {url} answered {response.status_code}: {response.content[:2000]}"
    if response.status_code == 202:
        task = wait_for_task(BackgroundTask.objects.get(pk=response.json()["id"]))
        assert task.status == BackgroundTask.SUCCEEDED, f"{task}: {task.message}"
    return response


def test_every_api_route_and_method_has_a_case_or_a_reason():
    cases = STORAGE_CASES.keys() | REGISTRY_CASES.keys()
    missing = [
        f"{method} {route}" for route, method in ROUTES if (route, method) not in cases and not _outside(route, method)
    ]
    assert not missing, (
        "API routes with no addressing case: add one to STORAGE_CASES or REGISTRY_CASES here "
        "(or, if they name nothing inside a namespace, an entry to OUTSIDE_ANY_NAMESPACE):\n  " + "\n  ".join(missing)
    )
    assert not [key for key in cases if key not in ROUTES], "a case names a route or method the API does not have"
    requests = [f"{method} {route}" for route, method in ROUTES]
    assert all(fnmatch.filter(requests, pattern) for pattern in OUTSIDE_ANY_NAMESPACE)


@cache
def _schema_operations() -> dict:
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return {
        (path, method.upper()): operation
        for path, operations in paths.items()
        for method, operation in operations.items()
    }


def _schema_path(pattern: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)


@pytest.mark.parametrize(("route", "method"), sorted(ROUTES))
def test_the_schema_declares_where_the_namespace_goes(route, method):
    operation = _schema_operations()[(_schema_path(ROUTES[(route, method)]), method)]
    declared = {parameter["name"]: parameter["in"] for parameter in operation.get("parameters", ())}
    if _outside(route, method):
        assert "namespace" not in declared
    elif (route, method) in REGISTRY_CASES:
        assert declared.get("namespace") == "path" or route == "api:registry-secret-bulk-create"
    elif STORAGE_CASES[(route, method)].per_namespace:
        assert declared.get("namespace") == "query"


def _storage_params() -> list:
    return [
        pytest.param(route, method, target, id=f"{method} {route} {target or 'default'}")
        for route, method in sorted(STORAGE_CASES)
        for target in (SIZES if STORAGE_CASES[(route, method)].per_namespace else ("",))
    ]


@pytest.fixture(scope="module")
def addressing_pool(ceph_admin, storage_pool) -> str:
    ceph_admin.create_namespace(f"{storage_pool}/{NS1}")
    return storage_pool


@pytest.mark.parametrize(("route", "method", "target"), _storage_params())
def test_storage_request_acts_on_the_named_object(
    route, method, target, admin_user, ceph_cluster, ceph_admin, addressing_pool
):
    case = STORAGE_CASES[(route, method)]
    twins = Twins(ceph_admin, addressing_pool, unique_name("twin"), target)
    for namespace, size in SIZES.items():
        ceph_admin.create_image(twins.spec(namespace), f"{size >> 20}M")
    if case.prepare:
        case.prepare(twins)
    names = {"name": twins.name, "pool": twins.pool, "target": target}
    if "{image_id}" in str(case.kwargs):
        names["image_id"] = twins.trash_id(target)
    if "{schedule_id}" in str(case.kwargs):
        names["schedule_id"] = twins.schedule_id(target)
    path = reverse(route, kwargs={"pool": twins.pool, **_filled(case.kwargs, names)})
    url = f"{path}?{urlencode({'namespace': target})}" if case.per_namespace and target else path
    before = {namespace: twins.state(namespace) for namespace in SIZES}

    response = _send(admin_user, method, url, _filled(case.body, names))

    after = {namespace: twins.state(namespace) for namespace in SIZES}
    for namespace in SIZES:
        if namespace != target or not case.per_namespace:
            assert after[namespace] == before[namespace], f"{method} {url} changed the twin in {namespace or 'default'}"
    if method != "GET" and case.per_namespace:
        assert after[target] != before[target], f"{method} {url} changed nothing in {target or 'default'}"
    if case.check:
        case.check(twins, response.json() if response.content else None)


def _registry_params() -> list:
    return [
        pytest.param(route, method, target, id=f"{method} {route} {target}")
        for route, method in sorted(REGISTRY_CASES)
        for target in LABELS
    ]


@pytest.mark.parametrize(("route", "method", "target"), _registry_params())
def test_registry_request_acts_on_the_named_object(
    route, method, target, admin_user, kube_cluster, core, namespace, second_namespace
):
    case = REGISTRY_CASES[(route, method)]
    twins = SecretTwins(
        core, dict(zip(LABELS, (namespace, second_namespace), strict=True)), unique_name("twin"), target
    )
    for label, where in twins.namespaces.items():
        for account in ("builder", f"only-{label}"):
            create_service_account(core, where, account)
        [result] = secrets.secret_create(
            actor=admin_user,
            cluster=kube_cluster,
            namespaces=[where],
            name=twins.name,
            credentials=[
                Credential(server=twins.server(label), username="robot", password=f"Addressing-{label}-pw-1"),
                Credential(server=SHARED_SERVER, username="robot", password="Addressing-shared-pw-1"),
            ],
        )
        assert result.ok, result.message
    if case.prepare:
        case.prepare(twins)
    names = {"name": twins.name, "namespace": twins.namespaces[target], "server": twins.server(target)}
    url = reverse(route, kwargs=_filled(case.kwargs, names))
    if case.query:
        url += f"?{urlencode(_filled(case.query, names))}"
    before = {label: twins.state(label) for label in LABELS}

    response = _send(admin_user, method, url, _filled(case.body, names))

    after = {label: twins.state(label) for label in LABELS}
    assert after[twins.other] == before[twins.other], f"{method} {url} changed the twin in {twins.other}"
    if method != "GET" and case.writes_kubernetes:
        assert after[target] != before[target], f"{method} {url} changed nothing in {target}"
    if case.check:
        case.check(twins, response.json())
