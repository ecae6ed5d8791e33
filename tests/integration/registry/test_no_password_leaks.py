"""No registry password appears in the database, the logs, the audit rows, or any response.

Every kind of request that carries a password goes through the API once (also refused ones
and the browsable API's HTML), with every logger at DEBUG, the Kubernetes client's and
urllib3's included; then each place is searched for every password, plain and inside an
`auth` value."""

import json
import logging

import pytest
from django.urls import reverse

from dashboard.audit.models import AuditEvent
from tests.helpers import leaks, password_forms, stored_text

pytestmark = pytest.mark.integration

LOGINS = {
    "harbor.example.com": ("robot", "Leak-Canary-harbor-1a2b"),
    "quay.example.org": ("deployer", "Leak-Canary-quay-3c4d"),
    "ghcr.io": ("bot", "Leak-Canary-ghcr-5e6f"),
    "legacy.example.net": ("old", "Leak-Canary-legacy-7a8b"),
    "upload.example.com": ("uploader", "Leak-Canary-upload-9c0d"),
}
ROTATED = "Leak-Canary-rotated-e1f2"
REFUSED = "Leak-Canary-refused-a3b4"


def login(server):
    username, password = LOGINS[server]
    return {"server": server, "username": username, "password": password}


@pytest.fixture
def every_logger_at_debug(caplog):
    for name in (None, "kubernetes", "urllib3", "registry", "dashboard", "django", "requests"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_no_password_anywhere(
    admin_client, kube_cluster, namespace, second_namespace, htpasswd_registry, every_logger_at_debug
):
    bodies: list[str] = []

    def send(method, url, data=None, **extra):
        response = getattr(admin_client, method)(url, data, content_type="application/json", **extra)
        bodies.append(response.content.decode())
        return response

    secrets_url = reverse("api:registry-secret-bulk-create")

    def detail(name, action="detail"):
        return reverse(f"api:registry-secret-{action}", args=[namespace, name])

    upload = {"auths": {"upload.example.com": {"auth": password_forms(*reversed(LOGINS["upload.example.com"]))[1]}}}

    assert (
        send(
            "post",
            secrets_url,
            {
                "namespaces": [namespace, second_namespace],
                "name": "regkey",
                "registries": [login("harbor.example.com"), login("quay.example.org")],
            },
        ).status_code
        == 200
    )
    assert (
        send(
            "post",
            reverse("api:registry-secret-list", args=[namespace]),
            {
                "name": "legacy",
                "type": "kubernetes.io/dockercfg",
                "registries": [login("legacy.example.net")],
                "config_json": json.dumps(upload),
            },
        ).status_code
        == 201
    )
    assert (
        send("post", detail("regkey", "rotate"), {"server": "harbor.example.com", "password": ROTATED}).status_code
        == 200
    )
    assert send("post", detail("regkey", "entries"), login("ghcr.io")).status_code == 200
    # Refused requests: a duplicate entry, a password with a line break, a rotate of a server not held.
    assert send("post", detail("regkey", "entries"), {**login("ghcr.io"), "password": REFUSED}).status_code == 400
    assert (
        send("post", detail("regkey", "entries"), {**login("ghcr.io"), "password": REFUSED + "\n"}).status_code == 400
    )
    assert (
        send("post", detail("regkey", "rotate"), {"server": "nowhere.example", "password": REFUSED}).status_code == 400
    )
    # The browsable API renders HTML around the answer, with forms.
    assert (
        send(
            "post",
            detail("regkey", "rotate"),
            {"server": "quay.example.org", "password": REFUSED},
            HTTP_ACCEPT="text/html",
        ).status_code
        == 200
    )
    url, username, password = htpasswd_registry
    tested = send(
        "post", reverse("api:registry-test-login"), {"server": url, "username": username, "password": password}
    )
    assert tested.json()["outcome"] == "ok"
    # A login typed into the server field is refused without being repeated.
    assert (
        send(
            "post",
            reverse("api:registry-test-login"),
            {"server": f"https://bot:{REFUSED}@ghcr.io", "username": "bot", "password": REFUSED},
        ).status_code
        == 400
    )
    assert (
        send("post", detail("regkey", "entries"), {**login("ghcr.io"), "server": f"bot:{REFUSED}@ghcr.io"}).status_code
        == 400
    )
    for read in (
        reverse("api:registry-secret-list", args=[namespace]),
        detail("regkey"),
        detail("legacy"),
        reverse("api:registry-doctor", args=[namespace]),
    ):
        response = send("get", read)
        assert response.status_code == 200
        send("get", read, HTTP_ACCEPT="text/html")
    assert send("delete", detail("regkey"), {"confirm_name": "regkey"}).status_code == 200

    logs = every_logger_at_debug.text + "\n".join(r.getMessage() for r in every_logger_at_debug.records)
    places = {**stored_text(), "logs": logs, "responses": "\n".join(bodies)}
    audit = places["audit"]

    secrets = [(p, u) for u, p in LOGINS.values()] + [(ROTATED, "robot"), (REFUSED, "bot"), (password, username)]
    assert not leaks([canary for secret, user in secrets for canary in password_forms(secret, user)], places)
    # The search looked at real content: the events and the logs are there, naming servers.
    assert AuditEvent.objects.filter(action="registry.secret.rotate", outcome="success").exists()
    assert "harbor.example.com" in audit and "registry.secret.entry.add" in logs
    assert "quay.example.org" in places["responses"] and "<form" in places["responses"]
