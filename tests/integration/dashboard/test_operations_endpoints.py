"""/healthz, /readyz and /metrics against the real Ceph cluster and kube-apiserver.

Transactional tests: the cluster calls behind /readyz and /metrics run in background threads, which
read the database through connections of their own."""

import base64
import json
import socket
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from kubernetes import client as kube
from prometheus_client.parser import text_string_to_metric_families

from dashboard.tasks.models import BackgroundTask
from dashboard.tenancy.models import Tenant
from registry.models import KubeCluster, RegistryQuota
from storage.models import CephCluster, QuotaReservation, StorageBinding, StorageQuota
from tests.helpers import unique_name

pytestmark = pytest.mark.integration
transactional = pytest.mark.django_db(transaction=True)

ELSEWHERE = "203.0.113.7"  # TEST-NET-3: outside the default allowed networks (loopback)
GIB = 1 << 30


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def eventually(check, timeout: float = 30):
    """The cluster calls answer in the background: a first probe may only start them."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.3)


# --- /healthz --------------------------------------------------------------------------------------


def test_healthz_answers_without_touching_the_database(client):
    # No database access is allowed in this test: a query would fail it.
    response = client.get("/healthz", REMOTE_ADDR=ELSEWHERE)
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


def test_the_endpoints_need_no_login_no_csrf_token_and_are_not_in_the_api_schema(admin_client, db):
    schema = admin_client.get(reverse("api-schema"), {"format": "json"}).json()
    assert not [path for path in schema["paths"] if path.rstrip("/").endswith(("healthz", "readyz", "metrics"))]
    assert admin_client.post("/healthz").status_code == 405, "a POST is refused as a method, not for CSRF"


# --- /readyz ---------------------------------------------------------------------------------------


@transactional
def test_readyz_reports_the_database_and_each_cluster(client, ceph_cluster, kube_cluster, ceph_admin):
    def reported():
        body = client.get("/readyz").json()
        clusters = {entry["kind"]: entry for entry in body["clusters"]}
        return body if all(entry["reachable"] is not None for entry in clusters.values()) else None

    body = eventually(reported)
    assert body, "both clusters answered within 30 s"
    clusters = {entry["kind"]: entry for entry in body["clusters"]}
    assert body["status"] == "ready" and body["database"] == {"reachable": True}
    assert clusters["ceph"]["name"] == "local" and clusters["ceph"]["reachable"] is True
    assert clusters["ceph"]["status"] == json.loads(ceph_admin.ceph("health", "--format", "json"))["status"]
    assert clusters["kubernetes"]["reachable"] is True and clusters["kubernetes"]["version"].startswith("v1.")
    for kind, record in (("ceph", CephCluster.objects.get()), ("kubernetes", KubeCluster.objects.get())):
        assert record.last_contact is not None, f"the {kind} call was recorded as the last contact"
        assert clusters[kind]["last_contact"] == record.last_contact.isoformat()


@transactional
def test_readyz_tells_others_only_whether_it_is_ready(client, ceph_cluster):
    response = client.get("/readyz", REMOTE_ADDR=ELSEWHERE)
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": {"reachable": True}}


@pytest.fixture
def silent_monitor():
    """A monitor that accepts connections and never answers (as in tests/security/test_ceph_connection_isolation.py)."""
    with socket.create_server(("127.0.0.1", 0), backlog=128) as server:
        yield f"v2:127.0.0.1:{server.getsockname()[1]}"


@transactional
def test_readyz_answers_within_a_second_while_a_ceph_cluster_is_silent(
    client, settings, ceph_cluster, ceph_dev_cluster, silent_monitor
):
    settings.BERTH_CEPH_TIMEOUT = 4
    CephCluster.objects.create(
        name="silent",
        client_name=ceph_dev_cluster.client_name,
        mon_host=silent_monitor,
        key_path=str(ceph_dev_cluster.client_key_file),
    )
    started = time.monotonic()
    first = client.get("/readyz")
    elapsed = time.monotonic() - started

    assert elapsed < 1.5, f"the probe took {elapsed:.2f} s"
    assert first.status_code == 200, "a dead Ceph cluster never makes Berth unready"
    silent = next(entry for entry in first.json()["clusters"] if entry["name"] == "silent")
    assert silent["reachable"] is None and "still asking" in silent["detail"]

    def failure_known():
        entries = {entry["name"]: entry for entry in client.get("/readyz").json()["clusters"]}
        return entries if entries["silent"]["reachable"] is False else None

    entries = eventually(failure_known)
    assert entries, "the silent cluster's failure is reported once its call has timed out"
    assert entries["silent"]["code"] == "ceph_unreachable"
    assert silent_monitor not in json.dumps(entries), "monitor addresses stay in the server log"
    assert entries["local"]["reachable"] is True


@transactional
def test_readyz_is_503_when_the_database_does_not_answer(client, settings):
    real = connection.settings_dict
    connection.close()
    # A copy for this thread's connection alone: the dict is shared with every other thread's connection, and
    # the test's task worker polling meanwhile would find the database gone too.
    connection.settings_dict = {**real, "NAME": "/nonexistent/berth/readyz.sqlite3"}
    try:
        response = client.get("/readyz")
    finally:
        connection.close()
        connection.settings_dict = real
    assert response.status_code == 503
    assert response.json()["status"] == "not ready" and response.json()["database"]["reachable"] is False
    assert client.get("/healthz").status_code == 200


# --- /metrics: who may scrape ----------------------------------------------------------------------


@transactional
@pytest.mark.parametrize(
    ("token", "request_headers", "status"),
    [
        ("", {}, 200),  # loopback, the default allowed network
        ("", {"REMOTE_ADDR": ELSEWHERE}, 401),
        ("", {"REMOTE_ADDR": "::ffff:127.0.0.1"}, 200),
        ("s3cret-metrics-token", {"REMOTE_ADDR": ELSEWHERE, "HTTP_AUTHORIZATION": "Bearer s3cret-metrics-token"}, 200),
        ("s3cret-metrics-token", {"REMOTE_ADDR": ELSEWHERE, "HTTP_AUTHORIZATION": "Bearer wrong-token"}, 401),
        ("s3cret-metrics-token", {"REMOTE_ADDR": ELSEWHERE, "HTTP_AUTHORIZATION": "Basic s3cret-metrics-token"}, 401),
        ("", {"REMOTE_ADDR": ELSEWHERE, "HTTP_AUTHORIZATION": "Bearer "}, 401),
    ],
)
def test_who_may_scrape(client, settings, token, request_headers, status):
    settings.BERTH_METRICS_TOKEN = token
    response = client.get("/metrics", **request_headers)
    assert response.status_code == status
    if status == 401:
        assert b"berth_" not in response.content
        assert response["WWW-Authenticate"].startswith("Bearer")


@transactional
def test_allowed_networks_come_from_the_settings(client, settings):
    settings.BERTH_METRICS_ALLOWED_NETWORKS = ["203.0.113.0/24"]
    assert client.get("/metrics", REMOTE_ADDR=ELSEWHERE).status_code == 200
    assert client.get("/metrics").status_code == 401, "loopback is no longer listed"


# --- /metrics: what it says ------------------------------------------------------------------------


@pytest.fixture
def tenant_with_usage(ceph_cluster, ceph_admin, storage_pool, kube_cluster, namespace, core):
    """Tenant 'metrics-team': two images (1 GiB with two snapshots, 2 GiB) in its own RBD namespace, a
    storage quota, a registry quota on a fresh namespace holding one pull secret, and a copy holding room."""
    tenant = Tenant.objects.create(name="Metrics team", slug="metrics-team")
    rbd_namespace = unique_name("metrics")
    ceph_admin.create_namespace(f"{storage_pool}/{rbd_namespace}")
    ceph_admin.create_image(f"{storage_pool}/{rbd_namespace}/one", "1G")
    ceph_admin.create_snapshot(f"{storage_pool}/{rbd_namespace}/one@first")
    ceph_admin.create_snapshot(f"{storage_pool}/{rbd_namespace}/one@second")
    ceph_admin.create_image(f"{storage_pool}/{rbd_namespace}/two", "2G")
    StorageBinding.objects.create(tenant=tenant, cluster=ceph_cluster, pool=storage_pool, namespace=rbd_namespace)
    StorageQuota.objects.create(tenant=tenant, max_images=10, max_provisioned_gib=20, max_snapshots=None)
    RegistryQuota.objects.create(
        tenant=tenant, kube_cluster=kube_cluster, namespaces=[namespace], max_pull_secrets_per_namespace=3
    )
    config = base64.b64encode(json.dumps({"auths": {"registry.example.com": {"auth": "eDp5"}}}).encode()).decode()
    core.create_namespaced_secret(
        namespace,
        kube.V1Secret(
            metadata=kube.V1ObjectMeta(name="pull"),
            type="kubernetes.io/dockerconfigjson",
            data={".dockerconfigjson": config},
        ),
    )
    task = BackgroundTask.objects.create(name="storage.image.copy", tenant=tenant, status=BackgroundTask.RUNNING)
    # A copy in flight: its image does not exist in Ceph yet, so all of it counts.
    QuotaReservation.objects.create(
        tenant=tenant,
        task=task,
        cluster=ceph_cluster,
        pool=storage_pool,
        namespace=rbd_namespace,
        image_name="three",
        size=GIB,
    )
    yield tenant
    ceph_admin.rbd("snap", "purge", f"{storage_pool}/{rbd_namespace}/one")
    for image in ("one", "two"):
        ceph_admin.rbd("rm", f"{storage_pool}/{rbd_namespace}/{image}")
    ceph_admin.rbd("namespace", "remove", f"{storage_pool}/{rbd_namespace}")


@transactional
def test_metrics_count_tasks_by_state_and_the_oldest_queued_ones_wait(client):
    for status, count in ((BackgroundTask.QUEUED, 2), (BackgroundTask.RUNNING, 1), (BackgroundTask.FAILED, 3)):
        for _ in range(count):
            BackgroundTask.objects.create(name="storage.image.flatten", target_key=unique_name("image"), status=status)
    oldest = BackgroundTask.objects.filter(status=BackgroundTask.QUEUED).first()
    BackgroundTask.objects.filter(pk=oldest.pk).update(created=timezone.now() - timedelta(minutes=5))

    samples = scrape(client)

    states = {labels[0][1]: value for (name, labels), value in samples.items() if name == "berth_tasks"}
    assert states == {"queued": 2, "running": 1, "succeeded": 0, "failed": 3}
    assert 300 <= samples[("berth_task_oldest_queued_age_seconds", ())] < 360


@transactional
def test_metrics_report_clusters_and_tenant_usage_against_quota(client, tenant_with_usage, namespace):
    def usage_read():
        samples = scrape(client)
        return (
            samples
            if ("berth_tenant_usage", (("dimension", "images"), ("tenant", "metrics-team"))) in samples
            else None
        )

    samples = eventually(usage_read)
    assert samples, "the tenant's usage was read within 30 s"

    def tenant(name: str, dimension: str) -> float | None:
        return samples.get((name, (("dimension", dimension), ("tenant", "metrics-team"))))

    # Ceph's two images plus the running copy's reservation (one image of 1 GiB).
    assert tenant("berth_tenant_usage", "images") == 3
    assert tenant("berth_tenant_usage", "provisioned_bytes") == 4 * GIB
    assert tenant("berth_tenant_usage", "snapshots") == 2
    assert tenant("berth_tenant_quota", "images") == 10
    assert tenant("berth_tenant_quota", "provisioned_bytes") == 20 * GIB
    assert tenant("berth_tenant_quota", "snapshots") is None, "unlimited: no sample"
    assert tenant("berth_tenant_quota", "pull_secrets_per_namespace") == 3
    where = (("cluster", "local"), ("namespace", namespace), ("tenant", "metrics-team"))
    assert eventually(lambda: scrape(client).get(("berth_tenant_pull_secrets", where))) == 1

    now = time.time()
    for kind in ("ceph", "kubernetes"):
        labels = (("cluster", "local"), ("kind", kind))
        assert samples[("berth_cluster_up", labels)] == 1
        assert now - 120 < samples[("berth_cluster_last_contact_timestamp_seconds", labels)] <= now


@transactional
def test_a_silent_cluster_is_down_in_the_metrics_and_the_scrape_stays_fast(
    client, settings, ceph_dev_cluster, silent_monitor
):
    settings.BERTH_CEPH_TIMEOUT = 2
    CephCluster.objects.create(
        name="silent",
        client_name=ceph_dev_cluster.client_name,
        mon_host=silent_monitor,
        key_path=str(ceph_dev_cluster.client_key_file),
    )
    started = time.monotonic()
    scrape(client)
    assert time.monotonic() - started < 1.5
    labels = (("cluster", "silent"), ("kind", "ceph"))
    assert eventually(lambda: scrape(client).get(("berth_cluster_up", labels)) == 0)
    assert ("berth_cluster_last_contact_timestamp_seconds", labels) not in scrape(client), "never reached"
