"""How registry/services/kube.py reaches a cluster and translates the API server's errors."""

import pytest

from dashboard.core.errors import Conflict, InvalidInput, NotConfigured
from registry.models import KubeCluster
from registry.services.kube import KubeApi, api_client

pytestmark = pytest.mark.integration


def secret_body(name):
    return {"metadata": {"name": name}, "type": "Opaque", "stringData": {"a": "b"}}


def test_422_carries_the_servers_field_message(kube_cluster, kube_namespace):
    with pytest.raises(InvalidInput) as caught:
        KubeApi(kube_cluster).create_secret(kube_namespace, secret_body("Bad_Name"))

    error = caught.value
    assert error.code == "kube_invalid"
    assert error.message.startswith(
        f"Kubernetes refused to create secret Bad_Name in namespace {kube_namespace}: metadata.name: Invalid value"
    )
    assert "RFC 1123" in error.extra["fields"]["metadata.name"]


def test_409_already_exists_and_stale_version(kube_cluster, kube_namespace):
    api = KubeApi(kube_cluster)
    api.create_secret(kube_namespace, secret_body("twice"))
    with pytest.raises(Conflict) as exists:
        api.create_secret(kube_namespace, secret_body("twice"))
    assert exists.value.code == "already_exists"
    assert exists.value.message == f"The secret twice in namespace {kube_namespace} already exists."

    first, second = api.read_secret(kube_namespace, "twice"), api.read_secret(kube_namespace, "twice")
    first.metadata.labels = {"edit": "one"}
    api.replace_secret(kube_namespace, first)
    second.metadata.labels = {"edit": "two"}
    with pytest.raises(Conflict) as stale:
        api.replace_secret(kube_namespace, second)
    assert stale.value.code == "kube_conflict" and "changed by someone else meanwhile" in stale.value.message


def test_unusable_kubeconfig_is_not_configured(db, tmp_path, kube_apiserver):
    missing = KubeCluster(name="gone", kubeconfig_path=str(tmp_path / "nope"))
    wrong_context = KubeCluster(name="ctx", kubeconfig_path=str(kube_apiserver.admin_kubeconfig), context="prod")

    with pytest.raises(NotConfigured) as no_file:
        api_client(missing)
    with pytest.raises(NotConfigured) as no_context:
        api_client(wrong_context)

    assert "does not exist" in no_file.value.operator_message
    assert no_context.value.code == "kubeconfig_unreadable" and "prod" in no_context.value.operator_message


def test_client_is_reused_until_the_kubeconfig_changes(kube_cluster, kube_apiserver, tmp_path):
    copy = tmp_path / "copy.kubeconfig"
    copy.write_text(kube_apiserver.admin_kubeconfig.read_text())
    kube_cluster.kubeconfig_path = str(copy)

    first = api_client(kube_cluster)
    assert api_client(kube_cluster) is first
    copy.write_text(copy.read_text() + "\n")
    renewed = api_client(kube_cluster)

    assert renewed is not first
    assert KubeApi(kube_cluster).list_namespaces()
