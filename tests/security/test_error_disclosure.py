"""A broken Ceph or Kubernetes cluster record (malformed, unreadable or missing ceph.conf, missing or
garbled keyring, silent monitors; garbage, missing or context-less kubeconfig) answers every request
with a 503 rather than a 500. A platform admin is told what to fix; a tenant user is told only that
the cluster is unavailable and which request id to quote, never the server's paths or monitor
addresses; the server log always has the whole story."""

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from registry.models import KubeCluster, RegistryQuota
from storage.models import CephCluster, StorageBinding
from tests.helpers import api_client_as, two_tenants
from tests.services.ceph import free_loopback_port

pytestmark = pytest.mark.integration

IPV4 = re.compile(r"\b\d{1,3}(\.\d{1,3}){3}\b")
GARBAGE = "this is [not a config\n  - {{ at: all\n"


@dataclass
class Broken:
    record: dict  # the cluster record's fields
    culprit: str  # what the operator has to fix, named to platform admins


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def _conf_style(conf: str, keyring: str) -> dict:
    return {"conf_path": conf, "keyring_path": keyring}


CEPH_CASES = {
    "malformed ceph.conf": lambda tmp, dev: Broken(
        _conf_style(_write(tmp / "ceph.conf", GARBAGE), str(dev.client_keyring)), str(tmp / "ceph.conf")
    ),
    "unreadable ceph.conf (a directory)": lambda tmp, dev: Broken(
        _conf_style(str(tmp), str(dev.client_keyring)), str(tmp)
    ),
    "missing ceph.conf": lambda tmp, dev: Broken(
        _conf_style(str(tmp / "absent.conf"), str(dev.client_keyring)), str(tmp / "absent.conf")
    ),
    "ceph.conf without monitors": lambda tmp, dev: Broken(
        _conf_style(_write(tmp / "ceph.conf", "[global]\nfsid = 0\n"), str(dev.client_keyring)), str(tmp / "ceph.conf")
    ),
    "missing keyring": lambda tmp, dev: Broken(
        _conf_style(str(dev.conf), str(tmp / "absent.keyring")), str(tmp / "absent.keyring")
    ),
    "garbled keyring": lambda tmp, dev: Broken(
        _conf_style(str(dev.conf), _write(tmp / "client.keyring", GARBAGE)), str(tmp / "client.keyring")
    ),
    "monitor that does not answer": lambda tmp, dev: Broken(
        {"mon_host": f"v2:127.0.0.1:{(port := free_loopback_port())}", "key_path": str(dev.client_key_file)},
        f"127.0.0.1:{port}",
    ),
}

MINIMAL_KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: dev, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: dev, user: {token: not-used}}]
contexts: [{name: dev, context: {cluster: dev, user: dev}}]
current-context: dev
"""

KUBE_CASES = {
    "garbage kubeconfig": lambda tmp: Broken(
        {"kubeconfig_path": _write(tmp / "kubeconfig", GARBAGE)}, str(tmp / "kubeconfig")
    ),
    "YAML that is not a kubeconfig": lambda tmp: Broken(
        {"kubeconfig_path": _write(tmp / "kubeconfig", "just a sentence\n")}, str(tmp / "kubeconfig")
    ),
    "missing kubeconfig": lambda tmp: Broken({"kubeconfig_path": str(tmp / "absent")}, str(tmp / "absent")),
    "kubeconfig without the context": lambda tmp: Broken(
        {"kubeconfig_path": _write(tmp / "kubeconfig", MINIMAL_KUBECONFIG), "context": "prod"}, "prod"
    ),
}


def assert_discreet(response, *secrets: str) -> None:
    """A tenant user's view of the failure: unavailable, the request id to quote, nothing of the server."""
    assert response.status_code == 503, response.content[:500]
    body = response.content.decode()
    for secret in secrets:
        assert secret not in body
    text = response.json()["detail"] if response["Content-Type"] == "application/json" else body
    assert not IPV4.search(text), text
    assert response["X-Request-ID"] in text, text


def assert_explained(response, culprit: str, caplog) -> None:
    assert response.status_code == 503, response.content[:500]
    detail = response.json()["detail"]
    assert culprit in detail, detail
    assert culprit in caplog.text, "the server log names what to fix"


def _ui_client(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def tenant_viewer(db):
    a, _, members, _ = two_tenants()
    return a, members["viewer"]


@pytest.mark.parametrize("case", CEPH_CASES)
def test_a_broken_ceph_cluster_is_explained_to_admins_and_not_shown_to_tenants(
    case, settings, tmp_path, ceph_dev_cluster, tenant_viewer, admin_user, caplog
):
    settings.BERTH_CEPH_TIMEOUT = 1
    broken = CEPH_CASES[case](tmp_path, ceph_dev_cluster)
    cluster = CephCluster.objects.create(name="broken", client_name=ceph_dev_cluster.client_name, **broken.record)
    tenant, viewer = tenant_viewer
    StorageBinding.objects.create(tenant=tenant, cluster=cluster, pool="rbd", namespace="team-a")
    api_url = f"{reverse('api:storage-image-list', args=['rbd'])}?cluster=broken&namespace=team-a"
    page_url = f"{reverse('storage:image-list', args=['rbd'])}?cluster=broken&namespace=team-a"
    hidden = (str(tmp_path), str(ceph_dev_cluster.conf.parent), broken.culprit)

    with caplog.at_level(logging.WARNING):
        assert_discreet(api_client_as(viewer).get(api_url), *hidden)
        assert_discreet(_ui_client(viewer).get(page_url), *hidden)
        assert_explained(api_client_as(admin_user).get(api_url), broken.culprit, caplog)


@pytest.mark.parametrize("case", KUBE_CASES)
def test_a_broken_kubeconfig_is_explained_to_admins_and_not_shown_to_tenants(
    case, tmp_path, tenant_viewer, admin_user, caplog
):
    broken = KUBE_CASES[case](tmp_path)
    cluster = KubeCluster.objects.create(name="broken", **broken.record)
    tenant, viewer = tenant_viewer
    RegistryQuota.objects.create(tenant=tenant, kube_cluster=cluster, namespaces=["team-a"])
    api_url = f"{reverse('api:registry-secret-list', args=['team-a'])}?cluster=broken"
    page_url = f"{reverse('registry:secret-list')}?cluster=broken&namespace=team-a"

    with caplog.at_level(logging.WARNING):
        assert_discreet(api_client_as(viewer).get(api_url), str(tmp_path))
        assert_discreet(_ui_client(viewer).get(page_url), str(tmp_path))
        assert_explained(api_client_as(admin_user).get(api_url), broken.culprit, caplog)
