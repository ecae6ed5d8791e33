"""The real services the every-route samples change: one Ceph pool (`storage_pool`) and one
Kubernetes namespace for the whole module (each sample makes its own uniquely named objects in
them), started only when a sample needs them."""

from collections.abc import Iterator

import pytest
from kubernetes import client

from tests.helpers import temporary_namespace, wait_for_service_account


@pytest.fixture(scope="module")
def shared_kube_namespace(kube_admin_api) -> Iterator[str]:
    """A namespace with its `default` service account."""
    core = client.CoreV1Api(kube_admin_api)
    with temporary_namespace(core, prefix="berth-audit") as name:
        wait_for_service_account(core, name)
        yield name
