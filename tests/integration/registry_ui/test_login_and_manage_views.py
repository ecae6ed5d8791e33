"""Test login from the wizard against real registries; secret pages and the pull doctor against
the real kube-apiserver."""

import pytest
from django.urls import reverse

from registry.dockerconfig import Credential
from registry.services.secrets import secret_create
from tests.helpers import decoded_auth, linked_secrets, stored_config

pytestmark = pytest.mark.integration


def try_login(client, row, server, username, password):
    return client.post(
        reverse("registry:wizard-test-login"),
        {
            "row": row,
            f"{row}-server": server,
            f"{row}-username": username,
            f"{row}-password": password,
            f"{row}-email": "",
        },
    ).content.decode()


@pytest.mark.parametrize("registry_fixture", ["htpasswd_registry", "token_registry"])
def test_test_login_tells_good_wrong_and_unreachable(admin_client, request, registry_fixture):
    registry = request.getfixturevalue(registry_fixture)

    good = try_login(admin_client, "registries-0", registry.url, registry.username, registry.password)
    wrong = try_login(admin_client, "registries-3", registry.url, registry.username, "not-the-password")
    unreachable = try_login(admin_client, "registries-1", "http://127.0.0.1:9", registry.username, "x")

    assert 'data-outcome="ok"' in good
    assert 'data-outcome="wrong_credentials"' in wrong
    assert 'data-outcome="unreachable"' in unreachable
    for body in (good, wrong):
        assert registry.password not in body


@pytest.fixture
def two_registry_secret(admin_user, kube_cluster, namespace):
    secret_create(
        actor=admin_user,
        cluster=kube_cluster,
        namespaces=[namespace],
        name="regkey",
        credentials=[
            Credential(server="harbor.example.com", username="robot", password="old-harbor"),
            Credential(server="quay.example.org", username="deployer", password="quay-pass"),
        ],
    )
    return "regkey"


def secret_url(name, namespace, secret):
    return reverse(f"registry:secret-{name}", args=[namespace, secret])


def test_detail_lists_every_registry_and_rotate_keeps_the_other(admin_client, core, namespace, two_registry_secret):
    detail = admin_client.get(secret_url("detail", namespace, "regkey")).content.decode()
    assert 'data-server="harbor.example.com"' in detail and 'data-server="quay.example.org"' in detail
    assert "robot" in detail and "deployer" in detail and "old-harbor" not in detail

    rotated = admin_client.post(
        secret_url("rotate", namespace, "regkey") + "?server=harbor.example.com", {"password": "new-harbor"}
    )

    assert rotated.status_code == 302
    _, document = stored_config(core, namespace, "regkey")
    assert decoded_auth(document["auths"]["harbor.example.com"]) == "robot:new-harbor"
    assert decoded_auth(document["auths"]["quay.example.org"]) == "deployer:quay-pass"


def test_delete_needs_the_typed_name_and_unlinks(admin_client, core, namespace, two_registry_secret):
    url = secret_url("delete", namespace, "regkey")
    refused = admin_client.post(url, {"confirm_name": "regke"})
    assert refused.status_code == 400 and linked_secrets(core, namespace) == ["regkey"]

    assert admin_client.post(url, {"confirm_name": "regkey"}).status_code == 302
    assert linked_secrets(core, namespace) == []
    assert core.list_namespaced_secret(namespace).items == []


def test_doctor_for_an_image_typed_in_by_hand_offers_the_prefilled_wizard(admin_client, namespace, two_registry_secret):
    page = admin_client.get(
        reverse("registry:doctor"),
        {"namespace": namespace, "image": "ghcr.io/acme/app:1", "service_account": "default"},
    )
    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="diagnosis-no-match"' in body
    assert "no secret holds a login for ghcr.io/acme/app" in body

    start = reverse("registry:wizard-start")
    assert (
        f"{start}?cluster=local&amp;namespace={namespace}&amp;image=ghcr.io%2Facme%2Fapp%3A1"
        "&amp;service_account=default"
    ) in body
    admin_client.get(start, {"namespace": namespace, "image": "ghcr.io/acme/app:1", "service_account": "default"})
    admin_client.post(reverse("registry:wizard-target"), {"cluster": "local", "namespaces": [namespace]})
    credentials = admin_client.get(reverse("registry:wizard-credentials")).content.decode()
    assert 'value="ghcr.io"' in credentials

    matched = admin_client.get(reverse("registry:doctor"), {"namespace": namespace, "image": "quay.example.org/x/y"})
    assert 'data-testid="diagnosis-match"' in matched.content.decode()
