"""The secret pages on a cluster other than the default one: every link and form keeps
`?cluster=`, so an operator who chose a cluster stays on it. The default cluster here is
registered with a kubeconfig that does not exist, so a page reached without the cluster fails
instead of passing on the default by accident; the chosen one is the real kube-apiserver under
another name."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from registry.dockerconfig import Credential
from registry.models import KubeCluster
from registry.services.secrets import secret_create
from tests.helpers import create_service_account, decoded_auth, linked_secrets, stored_config

pytestmark = pytest.mark.integration

REGISTRY_LINK = re.compile(r'(?:href|hx-post)="(/registry/[^"]*)"')


@pytest.fixture
def second_cluster(db, kube_apiserver) -> KubeCluster:
    KubeCluster.objects.create(name="unreachable-default", kubeconfig_path="/nonexistent/kubeconfig", is_default=True)
    return KubeCluster.objects.create(name="second", kubeconfig_path=str(kube_apiserver.admin_kubeconfig))


@pytest.fixture
def secret_on_second(admin_user, second_cluster, core, namespace) -> str:
    create_service_account(core, namespace, "builder")
    secret_create(
        actor=admin_user,
        cluster=second_cluster,
        namespaces=[namespace],
        name="regkey",
        credentials=[
            Credential(server="harbor.example.com", username="robot", password="Harbor-pass-2c4d"),
            Credential(server="quay.example.org", username="deployer", password="Quay-pass-6e0f"),
        ],
    )
    return "regkey"


def registry_links(response) -> list[str]:
    """The page's links and htmx posts to registry pages, in its main content (the navigation
    bar's "Pull secrets" is the way back to the default cluster)."""
    body = response.content.decode()
    main = body[body.index("<main") :]
    return [html.unescape(url) for url in REGISTRY_LINK.findall(main)]


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def assert_on_second(response, *, expected_links: int) -> list[str]:
    assert response.status_code == 200, response.content.decode()[:2000]
    links = registry_links(response)
    assert len(links) >= expected_links, links
    for url in links:
        assert query_of(url).get("cluster") == ["second"], url
    return links


def test_default_cluster_is_really_unusable(admin_client, secret_on_second, namespace):
    response = admin_client.get(reverse("registry:secret-list"), {"namespace": namespace})
    assert response.status_code == 503
    assert "kubeconfig /nonexistent/kubeconfig does not exist" in response.content.decode()


def test_list_detail_and_actions_stay_on_the_chosen_cluster(admin_client, core, namespace, secret_on_second):
    listing = admin_client.get(reverse("registry:secret-list"), {"cluster": "second", "namespace": namespace})
    links = assert_on_second(listing, expected_links=4)  # doctor, wizard, manage, delete
    assert '<input type="hidden" name="cluster" value="second">' in listing.content.decode()  # the picker
    detail_url = next(url for url in links if urlsplit(url).path.endswith("/regkey/"))

    detail = admin_client.get(detail_url)
    links = assert_on_second(detail, expected_links=8)
    by_action = {urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]: url for url in links}
    for action in ("rotate", "remove", "add", "link", "delete"):
        assert action in by_action, (action, links)
        assert_on_second(admin_client.get(by_action[action]), expected_links=0)

    rotate = next(url for url in links if "/rotate/" in url and "harbor.example.com" in url)
    rotated = admin_client.post(rotate, {"password": "Rotated-pw-81"})
    assert rotated.url == detail_url
    added = admin_client.post(
        by_action["add"], {"server": "ghcr.io", "username": "ci", "password": "Ghcr-pw-5", "email": ""}
    )
    assert added.url == detail_url
    remove_quay = next(url for url in links if "/entries/remove/" in url and "quay.example.org" in url)
    assert admin_client.post(remove_quay).url == detail_url
    assert admin_client.post(by_action["link"], {"service_accounts": ["builder"]}).url == detail_url
    auths = stored_config(core, namespace, "regkey")[1]["auths"]
    assert sorted(auths) == ["ghcr.io", "harbor.example.com"]
    assert decoded_auth(auths["harbor.example.com"]) == "robot:Rotated-pw-81"
    assert linked_secrets(core, namespace, "builder") == ["regkey"]

    unlink = next(url for url in registry_links(admin_client.get(detail_url)) if "/unlink/builder/" in url)
    assert admin_client.post(unlink).url == detail_url
    assert linked_secrets(core, namespace, "builder") == []

    deleted = admin_client.post(by_action["delete"], {"confirm_name": "regkey"})
    assert query_of(deleted.url) == {"cluster": ["second"], "namespace": [namespace]}
    assert_on_second(admin_client.get(deleted.url), expected_links=2)
    assert core.list_namespaced_secret(namespace).items == []


def test_doctor_opens_the_wizard_prefilled_on_the_same_cluster(admin_client, core, namespace, secret_on_second):
    doctor = admin_client.get(
        reverse("registry:doctor"),
        {"cluster": "second", "namespace": namespace, "image": "ghcr.io/acme/app:1", "service_account": "builder"},
    )
    body = doctor.content.decode()
    assert doctor.status_code == 200 and 'data-testid="diagnosis-no-match"' in body
    assert '<input type="hidden" name="cluster" value="second">' in body  # picker and image form
    [fix] = re.findall(r'data-testid="diagnosis-fix" href="([^"]*)"', body)
    fix = html.unescape(fix)
    assert urlsplit(fix).path == reverse("registry:wizard-start")
    assert query_of(fix) == {
        "cluster": ["second"],
        "namespace": [namespace],
        "image": ["ghcr.io/acme/app:1"],
        "service_account": ["builder"],
    }

    target_url = admin_client.get(fix).url
    target = admin_client.get(target_url).content.decode()
    assert '<option value="second" selected>' in target
    assert re.search(rf'<input type="checkbox" name="namespaces" value="{namespace}"[^>]* checked', target)
    admin_client.post(target_url, {"cluster": "second", "namespaces": [namespace]})
    credentials = admin_client.get(reverse("registry:wizard-credentials")).content.decode()
    assert 'name="registries-0-server" value="ghcr.io"' in credentials
    admin_client.post(
        reverse("registry:wizard-credentials"),
        {
            "registries-TOTAL_FORMS": "1",
            "registries-INITIAL_FORMS": "0",
            "registries-MIN_NUM_FORMS": "0",
            "registries-MAX_NUM_FORMS": "1000",
            "registries-0-server": "ghcr.io",
            "registries-0-username": "ci",
            "registries-0-password": "Ghcr-pw-3",
            "registries-0-email": "",
        },
    )
    options = admin_client.get(reverse("registry:wizard-options")).content.decode()
    for account in ("builder", "default"):
        assert re.search(rf'<input type="checkbox" name="service_accounts" value="{account}"[^>]* checked', options), (
            account
        )
