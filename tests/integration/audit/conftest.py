"""The real services the every-route samples change: one Ceph pool and one Kubernetes namespace
for the whole module (each sample makes its own uniquely named objects in them), started only
when a sample needs them."""

import uuid

import pytest
from kubernetes import client

from tests.integration.registry.conftest import create_service_account, kube_cluster  # noqa: F401
from tests.integration.storage.conftest import ceph_admin, storage_pool  # noqa: F401


@pytest.fixture(scope="module")
def shared_kube_namespace(kube_admin_api) -> str:
    """A namespace with its `default` service account (no controller-manager makes one)."""
    core = client.CoreV1Api(kube_admin_api)
    name = f"berth-audit-{uuid.uuid4().hex[:10]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    create_service_account(core, name)
    yield name
    core.delete_namespace(name)
