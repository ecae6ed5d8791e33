"""Two tenants sharing a pool of the real Ceph dev cluster (RBD namespaces team-a and team-b), tenant A
with a Kubernetes namespace on the real kube-apiserver, and ceph-csi's namespace there."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from kubernetes import client

from dashboard.tenancy.models import Tenant
from registry.models import KubeCluster, RegistryQuota
from storage.models import StorageBinding
from tests.helpers import temporary_namespace, two_tenants, unique_name


@pytest.fixture(scope="module")
def csi_pool(ceph_admin) -> Iterator[str]:
    name = unique_name("csi")
    ceph_admin.create_pool(name)
    for namespace in ("team-a", "team-b"):
        ceph_admin.create_namespace(f"{name}/{namespace}")
    yield name
    ceph_admin.delete_pool(name)


@dataclass
class Place:
    pool: str
    a: Tenant
    b: Tenant
    binding_a: StorageBinding
    binding_b: StorageBinding
    members: dict  # role -> user of tenant A
    outsider: object  # admin of tenant B only
    kube: KubeCluster
    csi_namespace: str
    app_namespace: str  # tenant A's
    other_namespace: str  # tenant B's


@pytest.fixture
def csi_namespace(core, settings) -> Iterator[str]:
    with temporary_namespace(core, "ceph-csi") as name:
        settings.BERTH_CSI_NAMESPACE = name
        yield name


@pytest.fixture
def place(
    db, ceph_cluster, csi_pool, kube_cluster, core, storage_api, csi_namespace, namespace, second_namespace
) -> Iterator[Place]:
    """The tenants and their places; the cluster-wide objects Berth wrote for them are removed afterwards."""
    a, b, members, outsider = two_tenants()
    binding_a = StorageBinding.objects.create(tenant=a, cluster=ceph_cluster, pool=csi_pool, namespace="team-a")
    binding_b = StorageBinding.objects.create(tenant=b, cluster=ceph_cluster, pool=csi_pool, namespace="team-b")
    RegistryQuota.objects.create(tenant=a, kube_cluster=kube_cluster, namespaces=[namespace])
    RegistryQuota.objects.create(tenant=b, kube_cluster=kube_cluster, namespaces=[second_namespace])
    yield Place(
        csi_pool, a, b, binding_a, binding_b, members, outsider, kube_cluster, csi_namespace, namespace,
        second_namespace,
    )  # fmt: skip
    berths = "app.kubernetes.io/managed-by=berth"
    storage_api.delete_collection_storage_class(label_selector=berths)
    for quota in core.list_resource_quota_for_all_namespaces(label_selector=berths).items:
        core.delete_namespaced_resource_quota(quota.metadata.name, quota.metadata.namespace)
    for pv in core.list_persistent_volume(label_selector=berths).items:
        # No pv-protection controller runs here to lift the finalizer the API server adds.
        core.patch_persistent_volume(pv.metadata.name, {"metadata": {"finalizers": None}})
        if pv.metadata.deletion_timestamp is None:
            core.delete_persistent_volume(pv.metadata.name)


@pytest.fixture
def storage_api(kube_admin_api) -> client.StorageV1Api:
    return client.StorageV1Api(kube_admin_api)
