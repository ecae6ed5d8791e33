"""A Kubernetes API server that accepts connections but never answers: every registry page answers
503, naming the cluster, within the issue's bound of 5 s (the client's timeouts and retries used to
add up to 6–13 s)."""

import time

import pytest
from django.urls import reverse

pytestmark = pytest.mark.integration

# The latency bound for a registry page when the API server is silent.
BOUND = 5.0

PAGES = {
    "secret list": lambda: reverse("registry:secret-list") + "?cluster=silent",
    "secret list of a namespace": lambda: reverse("registry:secret-list") + "?cluster=silent&namespace=team-a",
    "secret detail": lambda: reverse("registry:secret-detail", args=["team-a", "regkey"]) + "?cluster=silent",
    "pull doctor": lambda: reverse("registry:doctor") + "?cluster=silent&namespace=team-a",
    "wizard, first step": lambda: reverse("registry:wizard-target") + "?cluster=silent",
    "API secret list": lambda: reverse("api:registry-secret-list", args=["team-a"]) + "?cluster=silent",
}


@pytest.mark.parametrize("page", PAGES)
def test_a_silent_api_server_fails_a_registry_page_within_the_bound(admin_client, silent_kube_cluster, page):
    started = time.monotonic()
    response = admin_client.get(PAGES[page]())
    elapsed = time.monotonic() - started

    assert response.status_code == 503, response.content[:500]
    assert "Kubernetes cluster silent" in response.content.decode()
    assert elapsed < BOUND, f"{elapsed:.1f} s"
