"""The wizard through Django's test client: step validation, Back/Next, masking on the review
step, and that no password reaches any HTML response or the session store."""

import json

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from registry.models import WizardPasswords
from registry.wizard import SESSION_KEY, PasswordVault
from tests.helpers import decoded_auth, linked_secrets, stored_config

pytestmark = pytest.mark.integration

HARBOR = {"server": "harbor.example.com/team", "username": "robot$ci", "password": "Harbor-pass-7c1e"}
QUAY = {"server": "quay.example.org:8443", "username": "deployer", "password": "Quay-pass-d93a"}
PASSWORDS = [HARBOR["password"], QUAY["password"]]


def step(name):
    return reverse(f"registry:wizard-{name}")


def rows_data(*rows):
    data = {
        "registries-TOTAL_FORMS": str(len(rows)),
        "registries-INITIAL_FORMS": "0",
        "registries-MIN_NUM_FORMS": "0",
        "registries-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"registries-{index}-{key}": value for key, value in row.items()})
    return data


class Recorder:
    """Every response body the operator's browser would have received."""

    def __init__(self, client):
        self.client, self.bodies = client, []

    def get(self, url, **kwargs):
        return self._keep(self.client.get(url, **kwargs))

    def post(self, url, data=None, **kwargs):
        return self._keep(self.client.post(url, data or {}, **kwargs))

    def _keep(self, response):
        self.bodies.append(response.content.decode())
        return response


def walk_to_review(web, namespaces, rows=(HARBOR, QUAY), name="regkey"):
    assert web.get(reverse("registry:wizard-start")).url == step("target")
    assert web.post(step("target"), {"cluster": "local", "namespaces": namespaces}).url == step("credentials")
    assert web.post(step("credentials"), rows_data(*rows)).url == step("options")
    assert web.post(
        step("options"),
        {
            "name": name,
            "type": "kubernetes.io/dockerconfigjson",
            "service_accounts": ["default"],
            "labels": "team=payments",
        },
    ).url == step("review")
    return web.get(step("review"))


def test_wizard_creates_the_secret_and_no_password_is_shown_or_stored(
    admin_client, kube_cluster, core, namespace, second_namespace
):
    web = Recorder(admin_client)
    review = walk_to_review(web, [namespace, second_namespace])

    page = review.content.decode()
    assert review.status_code == 200
    assert "harbor.example.com/team" in page and "robot$ci" in page
    assert page.count("********") >= 4  # password and auth of both registries, in each namespace's manifest
    assert "--docker-password" not in page  # two registries: kubectl needs the config.json form
    assert f"kubectl create secret generic regkey --namespace {namespace}" in page

    created = web.post(step("review"), {"next": "1"})
    assert created.url == step("result")
    result = web.get(step("result")).content.decode()
    assert result.count('data-outcome="created"') == 2

    for ns in (namespace, second_namespace):
        secret_type, document = stored_config(core, ns, "regkey")
        assert secret_type == "kubernetes.io/dockerconfigjson"
        assert decoded_auth(document["auths"]["harbor.example.com/team"]) == "robot$ci:Harbor-pass-7c1e"
        assert decoded_auth(document["auths"]["quay.example.org:8443"]) == "deployer:Quay-pass-d93a"
        assert linked_secrets(core, ns) == ["regkey"]

    for body in web.bodies:
        for password in PASSWORDS:
            assert password not in body
            assert password.encode().hex() not in body
    stored_sessions = [json.dumps(session.get_decoded()) + session.session_data for session in Session.objects.all()]
    assert any(SESSION_KEY in stored for stored in stored_sessions)
    for stored in stored_sessions:
        for password in PASSWORDS:
            assert password not in stored
    # All namespaces succeeded, so the sealed passwords are gone too, and the browser's key with them.
    state = admin_client.session[SESSION_KEY]
    assert not WizardPasswords.objects.filter(wizard_id=state["id"]).exists()
    assert admin_client.cookies[PasswordVault.COOKIE].value == ""


def test_steps_refuse_bad_input_in_place(admin_client, kube_cluster, namespace):
    web = Recorder(admin_client)
    web.get(reverse("registry:wizard-start"))

    no_namespace = web.post(step("target"), {"cluster": "local"})
    assert no_namespace.status_code == 400
    assert "Choose at least one namespace." in no_namespace.content.decode()

    web.post(step("target"), {"cluster": "local", "namespaces": [namespace]})
    bad = web.post(step("credentials"), rows_data({**HARBOR, "server": "ftp://harbor.example.com"}))
    assert bad.status_code == 400
    assert "only http:// or https:// may precede the host" in bad.content.decode()
    assert HARBOR["password"] not in bad.content.decode()

    nothing = web.post(step("credentials"), rows_data({"server": "", "username": "", "password": ""}))
    assert nothing.status_code == 400
    assert "Give at least one registry login" in nothing.content.decode()

    web.post(step("credentials"), rows_data(HARBOR))
    bad_name = web.post(step("options"), {"name": "Not_A_Name", "type": "kubernetes.io/dockerconfigjson"})
    assert bad_name.status_code == 400
    assert "DNS-1123 subdomain" in bad_name.content.decode()


def test_later_steps_cannot_be_opened_early(admin_client, kube_cluster, namespace):
    admin_client.get(reverse("registry:wizard-start"))
    assert admin_client.get(step("review")).url == step("target")
    admin_client.post(step("target"), {"cluster": "local", "namespaces": [namespace]})
    assert admin_client.get(step("options")).url == step("credentials")


def test_back_keeps_everything_but_passwords(admin_client, kube_cluster, namespace):
    web = Recorder(admin_client)
    walk_to_review(web, [namespace], rows=(HARBOR,), name="keepme")

    back = web.post(step("review"), {"back": "1"})
    assert back.url == step("options")
    options = web.get(step("options")).content.decode()
    assert 'value="keepme"' in options and "team=payments" in options

    credentials = web.get(step("credentials")).content.decode()
    assert 'value="harbor.example.com/team"' in credentials and 'value="robot$ci"' in credentials
    assert HARBOR["password"] not in credentials
    # Returning to the credentials step dropped the held passwords: review needs them entered again.
    assert web.get(step("review")).url == step("credentials")


@pytest.mark.parametrize("lost", ["the browser's key", "the sealed passwords' time"])
def test_review_sends_back_when_the_passwords_cannot_be_opened(admin_client, kube_cluster, namespace, lost):
    web = Recorder(admin_client)
    walk_to_review(web, [namespace], rows=(HARBOR,))
    if lost == "the browser's key":
        del admin_client.cookies[PasswordVault.COOKIE]
    else:
        WizardPasswords.objects.update(expires=timezone.now())

    created = web.post(step("review"), {"next": "1"})

    assert created.url == step("credentials")
    follow = web.get(step("credentials"))
    assert "no longer held" in follow.content.decode()


def test_single_registry_review_shows_kubectl_docker_registry_with_elided_password(
    admin_client, kube_cluster, namespace
):
    review = walk_to_review(Recorder(admin_client), [namespace], rows=(HARBOR,)).content.decode()
    assert "kubectl create secret docker-registry regkey" in review
    assert "--docker-password=&#x27;&lt;password&gt;&#x27;" in review


def test_name_is_checked_as_you_type(admin_client):
    url = reverse("registry:wizard-check-name")
    assert 'data-valid="true"' in admin_client.get(url, {"name": "registry-pull"}).content.decode()
    refused = admin_client.get(url, {"name": "Registry_Pull"}).content.decode()
    assert 'data-valid="false"' in refused and "DNS-1123 subdomain" in refused


def test_pages_say_when_kubernetes_is_not_configured(admin_client, db):
    for url in (reverse("registry:secret-list"), reverse("registry:doctor"), step("target")):
        admin_client.get(reverse("registry:wizard-start"))
        response = admin_client.get(url)
        assert response.status_code == 503, url
        assert "Kubernetes is not configured" in response.content.decode()


def test_a_pasted_config_json_gives_the_rows(admin_client, kube_cluster, namespace):
    admin_client.get(reverse("registry:wizard-start"))
    admin_client.post(step("target"), {"cluster": "local", "namespaces": [namespace]})
    document = json.dumps(
        {
            "auths": {
                "https://ghcr.io": {"auth": "Y2k6Z2hjci1wYXNz"},  # ci:ghcr-pass
                "docker.io": {},
            },
            "credsStore": "desktop",
        }
    )

    accepted = admin_client.post(step("credentials"), {**rows_data(HARBOR), "config_text": document})

    assert accepted.url == step("options")
    state = admin_client.session[SESSION_KEY]
    assert [(row["server"], row["username"]) for row in state["registries"]] == [
        ("ghcr.io", "ci"),
        ("harbor.example.com/team", "robot$ci"),
    ]
    assert any("credential store" in note for note in state["notes"])
    assert "ghcr-pass" not in json.dumps(state)


def test_users_without_a_registry_tenant_get_no_namespaces(client, django_user_model, kube_cluster, namespace):
    client.force_login(django_user_model.objects.create_user("tenant-operator", password="x"))
    client.get(reverse("registry:wizard-start"))
    target = client.get(step("target"))
    assert target.status_code == 200 and f'value="{namespace}"' not in target.content.decode()
    response = client.get(reverse("registry:secret-list"), {"namespace": namespace})
    assert response.status_code == 404
    assert "does not exist, or is not one of your tenants" in response.content.decode()


def test_review_offers_the_logins_as_a_kubelet_config_json_for_nodes(admin_client, kube_cluster, namespace):
    web = Recorder(admin_client)
    review = walk_to_review(web, [namespace])
    assert "Every pod on the nodes that get this file may pull" in review.content.decode()

    download = admin_client.post(reverse("registry:wizard-node-config"))

    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="config.json"'
    assert download["Cache-Control"] == "no-store"
    auths = json.loads(download.content)["auths"]
    assert {server: decoded_auth(entry) for server, entry in auths.items()} == {
        "harbor.example.com/team": f"{HARBOR['username']}:{HARBOR['password']}",
        "quay.example.org:8443": f"{QUAY['username']}:{QUAY['password']}",
    }
    # Only the file carries the passwords: no page of the wizard showed them.
    assert not any(password in body for body in web.bodies for password in PASSWORDS)


def test_without_held_passwords_the_download_sends_back_to_the_credentials_step(admin_client):
    answer = admin_client.post(reverse("registry:wizard-node-config"))
    assert answer.status_code == 302 and answer.url == step("credentials")
