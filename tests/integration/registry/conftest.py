"""Berth's registry services against the real kube-apiserver: a KubeCluster row for it, the
admin client to set up and inspect what Berth did independently of Berth, and helpers."""

import base64
import json
import uuid

import pytest
from kubernetes import client

from registry.models import KubeCluster


@pytest.fixture
def kube_cluster(db, kube_apiserver) -> KubeCluster:
    return KubeCluster.objects.create(name="local", kubeconfig_path=str(kube_apiserver.admin_kubeconfig),
                                      is_default=True)


@pytest.fixture
def core(kube_admin_api) -> client.CoreV1Api:
    return client.CoreV1Api(kube_admin_api)


def create_service_account(core: client.CoreV1Api, namespace: str, name: str = "default",
                           pull_secrets: tuple[str, ...] = ()) -> None:
    # No controller-manager runs, so not even `default` exists until a test makes it.
    core.create_namespaced_service_account(namespace, client.V1ServiceAccount(
        metadata=client.V1ObjectMeta(name=name),
        image_pull_secrets=[client.V1LocalObjectReference(name=secret) for secret in pull_secrets] or None))


@pytest.fixture
def namespace(core, kube_namespace) -> str:
    """A fresh namespace with its `default` service account."""
    create_service_account(core, kube_namespace)
    return kube_namespace


@pytest.fixture
def second_namespace(core):
    name = f"berth-test-{uuid.uuid4().hex[:10]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    create_service_account(core, name)
    yield name
    core.delete_namespace(name)


def stored_config(core: client.CoreV1Api, namespace: str, name: str) -> tuple[str, dict]:
    """(type, decoded document) of a secret, read with the admin client."""
    secret = core.read_namespaced_secret(name, namespace)
    [value] = secret.data.values()
    return secret.type, json.loads(base64.b64decode(value))


def decoded_auth(entry: dict) -> str:
    return base64.b64decode(entry["auth"]).decode()


def linked_secrets(core: client.CoreV1Api, namespace: str, account: str = "default") -> list[str]:
    found = core.read_namespaced_service_account(account, namespace)
    return [reference.name for reference in found.image_pull_secrets or ()]
