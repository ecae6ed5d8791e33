"""The secret page's actions and the wizard's Retry and config.json upload, through Django's test
client against the real kube-apiserver; what Berth wrote is read back with the admin client."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from registry.dockerconfig import Credential, DockerConfigError, parse_config
from registry.models import WizardPasswords
from registry.services.secrets import secret_create
from registry.wizard import SESSION_KEY
from tests.helpers import create_service_account, decoded_auth, linked_secrets, stored_config, temporary_namespace

pytestmark = pytest.mark.integration

HARBOR = Credential(server="harbor.example.com", username="robot", password="Harbor-pass-51aa")
QUAY = Credential(server="quay.example.org", username="deployer", password="Quay-pass-0b7d")


def secret_url(action, namespace, name="regkey", **query):
    url = reverse(f"registry:secret-{action}", args=[namespace, name])
    return url + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


def make_secret(user, cluster, namespace, *credentials, service_accounts=("default",)):
    secret_create(
        actor=user,
        cluster=cluster,
        namespaces=[namespace],
        name="regkey",
        credentials=list(credentials),
        service_accounts=service_accounts,
    )


def auths(core, namespace):
    return stored_config(core, namespace, "regkey")[1]["auths"]


def test_add_entry_adds_a_registry_and_refuses_one_it_already_holds(
    admin_client, admin_user, kube_cluster, core, namespace
):
    make_secret(admin_user, kube_cluster, namespace, HARBOR)
    url = secret_url("add-entry", namespace)
    assert admin_client.get(url).status_code == 200

    added = admin_client.post(
        url, {"server": "ghcr.io", "username": "ci", "password": "Ghcr-pass-9e21", "email": ""}, follow=True
    )

    assert added.redirect_chain[0][0] == secret_url("detail", namespace, cluster="local")
    assert "ghcr.io added to regkey." in added.content.decode()
    stored = auths(core, namespace)
    assert decoded_auth(stored["ghcr.io"]) == "ci:Ghcr-pass-9e21"
    assert decoded_auth(stored["harbor.example.com"]) == "robot:Harbor-pass-51aa"

    again = admin_client.post(
        url, {"server": "harbor.example.com", "username": "other", "password": "Other-pw-1", "email": ""}
    )
    body = again.content.decode()
    assert again.status_code in (400, 409)
    assert "already holds a login for harbor.example.com" in body and "Other-pw-1" not in body
    assert decoded_auth(auths(core, namespace)["harbor.example.com"]) == "robot:Harbor-pass-51aa"


def test_remove_entry_removes_one_and_refuses_the_last(admin_client, admin_user, kube_cluster, core, namespace):
    make_secret(admin_user, kube_cluster, namespace, HARBOR, QUAY)
    confirm = admin_client.get(secret_url("remove-entry", namespace, server="quay.example.org")).content.decode()
    assert "will no longer get the login for quay.example.org" in confirm

    removed = admin_client.post(secret_url("remove-entry", namespace, server="quay.example.org"), follow=True)

    assert "quay.example.org removed from regkey." in removed.content.decode()
    assert list(auths(core, namespace)) == ["harbor.example.com"]

    last = admin_client.post(secret_url("remove-entry", namespace, server="harbor.example.com"))
    assert last.status_code == 400
    assert (
        "harbor.example.com is the only registry in secret regkey; delete the secret instead" in last.content.decode()
    )
    assert decoded_auth(auths(core, namespace)["harbor.example.com"]) == "robot:Harbor-pass-51aa"


def test_link_and_unlink_keep_the_accounts_other_secrets(admin_client, admin_user, kube_cluster, core, namespace):
    create_service_account(core, namespace, "builder", pull_secrets=("builder-own",))
    make_secret(admin_user, kube_cluster, namespace, HARBOR, service_accounts=())
    detail = admin_client.get(secret_url("detail", namespace)).content.decode()
    assert 'data-testid="linked-accounts-empty"' in detail
    link_page = admin_client.get(secret_url("link", namespace)).content.decode()
    assert 'value="builder"' in link_page and 'value="default"' in link_page

    linked = admin_client.post(secret_url("link", namespace), {"service_accounts": ["builder", "default"]}, follow=True)

    assert "regkey is linked to builder, default." in linked.content.decode()
    assert linked_secrets(core, namespace, "builder") == ["builder-own", "regkey"]
    assert linked_secrets(core, namespace) == ["regkey"]

    # The page's Unlink button posts with htmx and is sent on to the refreshed page.
    unlinked = admin_client.post(
        reverse("registry:secret-unlink", args=[namespace, "regkey", "builder"]), HTTP_HX_REQUEST="true"
    )

    assert unlinked.status_code == 200 and unlinked["HX-Redirect"] == secret_url("detail", namespace, cluster="local")
    assert linked_secrets(core, namespace, "builder") == ["builder-own"]
    assert linked_secrets(core, namespace) == ["regkey"]
    page = admin_client.get(unlinked["HX-Redirect"]).content.decode()
    assert "regkey unlinked from service account builder." in page
    assert 'data-account="default"' in page and 'data-account="builder"' not in page


def step(name):
    return reverse(f"registry:wizard-{name}")


def rows_data(*rows):
    data = {
        "registries-TOTAL_FORMS": str(max(1, len(rows))),
        "registries-INITIAL_FORMS": "0",
        "registries-MIN_NUM_FORMS": "0",
        "registries-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"registries-{index}-{key}": value for key, value in row.items()})
    return data


@pytest.fixture
def namespace_without_builder(core):
    with temporary_namespace(core) as name:
        yield name


def create_where_one_namespace_has_no_builder_account(client, core, namespace, bare):
    """The wizard's Create linking `builder` in `namespace` (which has it) and `bare` (which has not)."""
    create_service_account(core, namespace, "builder")
    client.get(reverse("registry:wizard-start"))
    client.post(step("target"), {"cluster": "local", "namespaces": [namespace, bare]})
    client.post(
        step("credentials"),
        rows_data({"server": HARBOR.server, "username": HARBOR.username, "password": HARBOR.password, "email": ""}),
    )
    assert client.post(
        step("options"),
        {"name": "regkey", "type": "kubernetes.io/dockerconfigjson", "service_accounts": ["builder"], "labels": ""},
    ).url == step("review")
    assert client.post(step("review"), {"next": "1"}).url == step("result")


def test_retry_links_a_namespace_once_its_service_account_exists(
    admin_client, kube_cluster, core, namespace, namespace_without_builder
):
    bare = namespace_without_builder
    create_where_one_namespace_has_no_builder_account(admin_client, core, namespace, bare)

    result = admin_client.get(step("result")).content.decode()
    assert f'data-namespace="{namespace}" data-outcome="created"' in result
    assert f'data-namespace="{bare}" data-outcome="failed"' in result
    assert f"NOT linked to service account builder, which does not exist in {bare}" in result
    assert f'type="checkbox" name="namespaces" value="{bare}"' in result
    assert HARBOR.password not in result
    assert decoded_auth(auths(core, bare)["harbor.example.com"]) == "robot:Harbor-pass-51aa"

    create_service_account(core, bare, "builder")
    retried = admin_client.post(step("result"), {"namespaces": [bare]})

    assert retried.url == step("result")
    after = admin_client.get(step("result")).content.decode()
    assert f'data-namespace="{bare}" data-outcome="updated"' in after
    assert f"updated in {bare}, linked to builder" in after
    assert f'data-namespace="{namespace}" data-outcome="created"' in after
    assert "Retry failed namespaces" not in after
    assert linked_secrets(core, bare, "builder") == ["regkey"]
    assert not WizardPasswords.objects.filter(wizard_id=admin_client.session[SESSION_KEY]["id"]).exists()


def test_retry_refuses_namespaces_that_did_not_fail(
    admin_client, kube_cluster, core, namespace, namespace_without_builder
):
    create_where_one_namespace_has_no_builder_account(admin_client, core, namespace, namespace_without_builder)

    not_failed = admin_client.post(step("result"), {"namespaces": [namespace]})
    nothing = admin_client.post(step("result"), {})

    assert not_failed.status_code == 400
    assert f"Select a valid choice. {namespace} is not one of the available choices." in not_failed.content.decode()
    assert nothing.status_code == 400
    assert "Choose at least one failed namespace to retry." in nothing.content.decode()


def upload(document: dict) -> SimpleUploadedFile:
    return SimpleUploadedFile("config.json", json.dumps(document).encode(), content_type="application/json")


def test_an_uploaded_config_json_gives_the_logins_of_the_secret(admin_client, kube_cluster, core, namespace):
    admin_client.get(reverse("registry:wizard-start"))
    admin_client.post(step("target"), {"cluster": "local", "namespaces": [namespace]})
    document = {
        "auths": {
            "https://ghcr.io": {"auth": "Y2k6Z2hjci1wYXNz"},  # ci:ghcr-pass
            "quay.example.org": {"username": "deployer", "password": "Quay-file-pw"},
        }
    }

    accepted = admin_client.post(step("credentials"), {**rows_data(), "config_file": upload(document)})

    assert accepted.url == step("options")
    state = admin_client.session[SESSION_KEY]
    assert [(row["server"], row["username"]) for row in state["registries"]] == [
        ("ghcr.io", "ci"),
        ("quay.example.org", "deployer"),
    ]
    assert "ghcr-pass" not in json.dumps(state) and "Quay-file-pw" not in json.dumps(state)
    admin_client.post(
        step("options"),
        {"name": "regkey", "type": "kubernetes.io/dockerconfigjson", "service_accounts": ["default"], "labels": ""},
    )
    assert admin_client.post(step("review"), {"next": "1"}).url == step("result")
    stored = auths(core, namespace)
    assert decoded_auth(stored["ghcr.io"]) == "ci:ghcr-pass"
    assert decoded_auth(stored["quay.example.org"]) == "deployer:Quay-file-pw"


def test_an_uploaded_config_json_with_only_a_credential_store_is_refused(admin_client, kube_cluster, namespace):
    admin_client.get(reverse("registry:wizard-start"))
    admin_client.post(step("target"), {"cluster": "local", "namespaces": [namespace]})
    document = {"auths": {"ghcr.io": {}, "https://index.docker.io/v1/": {}}, "credsStore": "desktop"}
    with pytest.raises(DockerConfigError) as expected:
        parse_config(json.dumps(document))

    refused = admin_client.post(step("credentials"), {**rows_data(), "config_file": upload(document)})

    assert refused.status_code == 400
    assert escape(expected.value.message) in refused.content.decode()
    assert "credential helper (" in expected.value.message
    assert admin_client.session[SESSION_KEY]["registries"] == []
