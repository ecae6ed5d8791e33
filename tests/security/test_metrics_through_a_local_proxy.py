"""Attack: read Berth's metrics and cluster list through a reverse proxy on Berth's own host.

/metrics (tenants, quotas, usage, cluster names) and the clusters in /readyz are open to loopback by
default, for a scraper on the same host. A TLS-terminating proxy on that host (nginx, the Ingress
controller's sidecar) connects from loopback too, so without more care every outsider it forwards
would count as local. A request that carries the headers such a proxy adds is therefore judged as
coming from elsewhere: it needs the metrics token."""

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

OUTSIDER = "198.51.100.23"
FORWARDED = [
    {"HTTP_X_FORWARDED_FOR": OUTSIDER},
    {"HTTP_FORWARDED": f"for={OUTSIDER};proto=https"},
    {"HTTP_X_REAL_IP": OUTSIDER},
]


@pytest.mark.parametrize("proxy_headers", FORWARDED)
def test_an_outsider_forwarded_by_a_local_proxy_gets_no_metrics(client, ceph_cluster, proxy_headers):
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", **proxy_headers)
    assert response.status_code == 401
    assert b"berth_" not in response.content


@pytest.mark.parametrize("proxy_headers", FORWARDED)
def test_an_outsider_forwarded_by_a_local_proxy_sees_no_clusters(client, ceph_cluster, proxy_headers):
    body = client.get("/readyz", REMOTE_ADDR="127.0.0.1", **proxy_headers).json()
    assert body == {"status": "ready", "database": {"reachable": True}}
    assert "local" not in str(body)


def test_the_token_still_works_through_the_proxy(client, settings, ceph_cluster):
    settings.BERTH_METRICS_TOKEN = "a-long-random-metrics-token"
    response = client.get(
        "/metrics",
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR=OUTSIDER,
        HTTP_AUTHORIZATION="Bearer a-long-random-metrics-token",
    )
    assert response.status_code == 200 and b"berth_tasks" in response.content
