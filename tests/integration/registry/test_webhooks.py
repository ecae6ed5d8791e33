"""Notifications and outgoing webhooks, delivered by the real task worker to a real HTTP receiver
started here: a failing credential found by the health check against a real docker-registry reaches
the receiver signed; a receiver answering 500 is retried with backoff until it answers 200."""

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from dashboard.tenancy.models import Membership, Tenant
from registry.dockerconfig import Credential
from registry.models import Notification, RegistryQuota, WebhookDelivery
from registry.services.credential_health import credential_health_run
from registry.services.notifications import notify
from registry.services.secrets import secret_create
from tests.helpers import api_client_as
from tests.services.docker_registry import DockerRegistry

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SIGNING_SECRET = "Webhook-signing-secret-5d8e1f"
PASSWORD = "Robot-pw:webhook 0c3a"


@dataclass
class Receiver:
    """Records each request; answers the scripted statuses in turn, then 200."""

    answers: list[int] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    def verified(self, headers: dict[str, str], body: bytes) -> bool:
        expected = hmac.new(
            SIGNING_SECRET.encode(), headers["X-Berth-Timestamp"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(headers["X-Berth-Signature"], f"sha256={expected}")


@contextmanager
def receiving() -> Iterator[Receiver]:
    """An HTTP receiver on a free loopback port, for as long as the block runs."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append((dict(self.headers), body))
            self.send_response(state.answers.pop(0) if state.answers else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/berth-token-in-path"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as state:
        yield state


def settled(delivery_count: int, timeout: float = 60) -> list[WebhookDelivery]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deliveries = list(WebhookDelivery.objects.exclude(status=WebhookDelivery.PENDING))
        if len(deliveries) >= delivery_count:
            return deliveries
        time.sleep(0.1)
    raise AssertionError(f"deliveries did not settle: {list(WebhookDelivery.objects.values())}")


def make_webhook(admin_user, receiver, **extra):
    response = api_client_as(admin_user).post(
        reverse("api:registry-webhook-list"),
        {"name": "ops-chat", "url": receiver.url, "secret": SIGNING_SECRET, **extra},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["destination"] == f"{receiver.url.split('/hooks')[0]}/…"
    return response.json()


def test_a_changed_htpasswd_fires_the_signed_webhook(
    admin_user, django_user_model, client, kube_cluster, namespace, receiver
):
    tenant = Tenant.objects.create(name="Team W", slug="team-w")
    RegistryQuota.objects.create(tenant=tenant, kube_cluster=kube_cluster, namespaces=[namespace])
    tenant_admin = django_user_model.objects.create_user("w-admin", password="pw-not-used-0")
    Membership.objects.create(user=tenant_admin, tenant=tenant, role="admin")
    stranger = django_user_model.objects.create_user("x-admin", password="pw-not-used-0")
    Membership.objects.create(user=stranger, tenant=Tenant.objects.create(name="X", slug="x"), role="admin")
    make_webhook(admin_user, receiver)
    with DockerRegistry(username="robot", password=PASSWORD, auth="htpasswd") as registry:
        server = registry.url.removeprefix("http://")
        [created] = secret_create(
            actor=admin_user,
            cluster=kube_cluster,
            namespaces=[namespace],
            name="robot-pull",
            credentials=[Credential(server=server, username="robot", password=PASSWORD)],
        )
        assert created.ok, created.message
        credential_health_run(progress=lambda done, total: 0)
        assert Notification.objects.count() == 0  # working from the start: nothing to say
        registry.set_password("Changed-by-the-registry-admin 8f0b")
        credential_health_run(progress=lambda done, total: 0)

    [delivery] = settled(1)
    assert delivery.status == WebhookDelivery.DELIVERED and delivery.attempt_log[0]["status"] == 200
    [(headers, body)] = receiver.requests
    assert receiver.verified(headers, body)
    sent = json.loads(body)
    assert sent["kind"] == "credential_failing" and sent["tenant"] == "team-w"
    assert sent["text"].startswith("Berth: [team-w] The login of robot to ")
    assert f"{server} refused the login of robot: wrong username or password" in sent["text"]
    assert sent["details"]["secret"] == "robot-pull" and sent["details"]["outcome"] == "wrong_credentials"
    assert PASSWORD not in body.decode() and SIGNING_SECRET not in body.decode()

    mine = api_client_as(tenant_admin).get(reverse("api:registry-notification-list")).json()
    assert [n["kind"] for n in mine] == ["credential_failing"]
    assert api_client_as(stranger).get(reverse("api:registry-notification-list")).json() == []
    client.force_login(tenant_admin)
    page = client.get(reverse("registry:notifications"))
    assert b'data-testid="notification-banner"' in page.content and b"wrong username or password" in page.content
    dismissed = api_client_as(tenant_admin).post(reverse("api:registry-notification-dismiss", args=[mine[0]["id"]]))
    assert dismissed.status_code == 200 and dismissed.json()["dismissed"]
    assert b"notification-banner" not in client.get(reverse("registry:notifications")).content


def test_a_failing_receiver_is_retried_with_backoff(admin_user, receiver, settings):
    settings.BERTH_WEBHOOK_RETRY_SECONDS = 1
    receiver.answers = [500, 500]
    make_webhook(admin_user, receiver)

    notify(None, Notification.RECONCILE_ERROR, "reconcile of team-a/pull failed", {"namespace": "team-a"})

    [delivery] = settled(1)
    assert delivery.status == WebhookDelivery.DELIVERED
    assert [(entry.get("status"), entry.get("retry_in_seconds")) for entry in delivery.attempt_log] == [
        (500, 1),
        (500, 2),
        (200, None),
    ]
    assert len(receiver.requests) == 3
    assert all(receiver.verified(headers, body) for headers, body in receiver.requests)
    deliveries = api_client_as(admin_user).get(reverse("api:registry-webhook-detail", args=["ops-chat"])).json()
    assert deliveries[0]["attempts"] == 3


def test_a_receiver_that_never_answers_2xx_is_given_up(admin_user, receiver, settings):
    settings.BERTH_WEBHOOK_RETRY_SECONDS = 1
    settings.BERTH_WEBHOOK_ATTEMPTS = 2
    receiver.answers = [503, 503, 503]
    make_webhook(admin_user, receiver)

    notify(None, Notification.DRIFT_FOUND, "copy in team-a differs", {})

    [delivery] = settled(1)
    assert delivery.status == WebhookDelivery.FAILED and delivery.attempts == 2


def test_only_platform_admins_set_webhooks_and_only_to_http(admin_user, django_user_model, receiver):
    tenant_admin = django_user_model.objects.create_user("t-admin", password="pw-not-used-0")
    Membership.objects.create(user=tenant_admin, tenant=Tenant.objects.create(name="T", slug="t"), role="admin")
    body = {"name": "hook", "url": receiver.url, "secret": SIGNING_SECRET}
    refused = api_client_as(tenant_admin).post(reverse("api:registry-webhook-list"), body, format="json")
    assert refused.status_code == 403
    for url in ("file:///etc/passwd", "gopher://127.0.0.1:25/", "ftp://example.com/x"):
        bad = api_client_as(admin_user).post(reverse("api:registry-webhook-list"), {**body, "url": url}, format="json")
        assert (bad.status_code, bad.json()["code"]) == (400, "webhook_url_scheme"), url
    listed = api_client_as(admin_user).get(reverse("api:registry-webhook-list"))
    assert listed.json() == []
