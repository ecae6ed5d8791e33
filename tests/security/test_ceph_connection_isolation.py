"""One Ceph cluster whose monitors never answer must not stall Berth for the others: connecting
is serialised per cluster, not globally, and a failed connect is remembered for
BERTH_CEPH_RETRY_AFTER seconds, during which requests for that cluster fail at once."""

import gc
import re
import socket
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from django.db import connections
from django.urls import reverse

from storage.models import CephCluster
from tests.helpers import api_client_as

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

POOLS = reverse("api:storage-pool-list")
# The acceptance bound for a request to a healthy cluster while another one is dead.
HEALTHY_BOUND = 0.2
SILENT_TIMEOUT = 2


@pytest.fixture
def silent_monitor() -> Iterator[str]:
    """A monitor address on a hung host: the kernel completes every TCP handshake on this listening
    socket, but nothing ever accepts or answers, so librados waits for its full timeout."""
    with socket.create_server(("127.0.0.1", 0), backlog=128) as server:
        yield f"v2:127.0.0.1:{server.getsockname()[1]}"


@pytest.fixture
def silent_cluster(db, ceph_dev_cluster, silent_monitor) -> CephCluster:
    return CephCluster.objects.create(
        name="silent",
        client_name=ceph_dev_cluster.client_name,
        mon_host=silent_monitor,
        key_path=str(ceph_dev_cluster.client_key_file),
    )


@contextmanager
def no_full_garbage_collection() -> Iterator[None]:
    """A full collection of the heap that the session's earlier tests left behind stops every thread
    for up to a second on a busy machine: a pause of this test process, not of one cluster's requests
    behind another's, which is what is measured here."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _get(user, url: str):
    try:
        return api_client_as(user).get(url)
    finally:
        connections.close_all()


def test_a_silent_cluster_does_not_slow_requests_for_a_healthy_one(settings, ceph_cluster, silent_cluster, admin_user):
    settings.BERTH_CEPH_TIMEOUT = SILENT_TIMEOUT
    settings.BERTH_CEPH_RETRY_AFTER = 30
    healthy = api_client_as(admin_user)
    assert healthy.get(POOLS).status_code == 200, "the healthy cluster's connection exists before the clock runs"

    latencies = []
    with no_full_garbage_collection(), ThreadPoolExecutor(max_workers=8) as workers:
        stuck = [workers.submit(_get, admin_user, f"{POOLS}?cluster=silent") for _ in range(8)]
        while not all(request.done() for request in stuck):
            started = time.monotonic()
            response = healthy.get(POOLS)
            latencies.append(time.monotonic() - started)
            assert response.status_code == 200
    answers = [request.result() for request in stuck]

    assert [answer.status_code for answer in answers] == [503] * 8
    assert {answer.json()["code"] for answer in answers} == {"ceph_unreachable"}
    # A healthy request held up by the silent cluster waits out its connect timeout. The bound holds for 95 % of
    # them: with the other test worker's browser on the same two cores, one request in a few hundred was once
    # descheduled for 0.36 s, which is the machine, not one cluster waiting behind another.
    slowest = max(latencies)
    typical = statistics.quantiles(latencies, n=20)[-1]
    assert typical < HEALTHY_BOUND, f"95th percentile of {len(latencies)} healthy requests {typical:.2f} s"
    assert slowest < SILENT_TIMEOUT / 2, f"slowest healthy request {slowest:.2f} s of {len(latencies)}"


def test_a_failed_connect_is_remembered_until_the_retry_time_or_a_fix(
    settings, silent_cluster, ceph_dev_cluster, admin_user
):
    settings.BERTH_CEPH_TIMEOUT = 1
    settings.BERTH_CEPH_RETRY_AFTER = 30
    with ThreadPoolExecutor(max_workers=8) as workers:
        answers = list(workers.map(lambda _: _get(admin_user, f"{POOLS}?cluster=silent"), range(8)))

    details = [answer.json()["detail"] for answer in answers]
    assert [answer.status_code for answer in answers] == [503] * 8
    assert all(re.search(r"Berth tries again in \d+ s\.$", detail) for detail in details), details
    attempted = [detail for detail in details if "ago" not in detail]
    assert len(attempted) == 1, "one request tries to connect; the others are told of its failure"
    assert all(f"no monitor at {silent_cluster.mon_host} answered" in detail for detail in details)

    CephCluster.objects.filter(pk=silent_cluster.pk).update(mon_host=ceph_dev_cluster.mon_host)
    assert _get(admin_user, f"{POOLS}?cluster=silent").status_code == 200, "a changed record is tried at once"


def test_the_cluster_is_tried_again_once_the_retry_time_has_passed(settings, silent_cluster, admin_user):
    settings.BERTH_CEPH_TIMEOUT = 1
    settings.BERTH_CEPH_RETRY_AFTER = 2
    url = f"{POOLS}?cluster=silent"
    first, remembered = _get(admin_user, url), _get(admin_user, url)
    time.sleep(2.5)
    retried = _get(admin_user, url)

    assert [answer.status_code for answer in (first, remembered, retried)] == [503] * 3
    assert "ago" not in first.json()["detail"]
    assert "ago" in remembered.json()["detail"]
    assert "ago" not in retried.json()["detail"], "a new attempt, not the remembered failure"
