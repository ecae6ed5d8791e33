"""Where Rook manages the RBD namespace (a CephBlockPoolRadosNamespace, its CRD installed on the real
kube-apiserver), Berth uses Rook's clusterID and driver and leaves ceph-csi's cluster list to Rook."""

import time
from collections.abc import Iterator

import pytest
from kubernetes import client

from dashboard.kubevolumes.services import LEFT_TO_ROOK, binding_kube_setup, image_kube_volume_create
from storage.services import images
from tests.helpers import temporary_namespace, unique_name

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "cephblockpoolradosnamespaces.ceph.rook.io"},
    "spec": {
        "group": "ceph.rook.io",
        "scope": "Namespaced",
        "names": {"plural": "cephblockpoolradosnamespaces", "singular": "cephblockpoolradosnamespace",
                  "kind": "CephBlockPoolRadosNamespace"},
        "versions": [{"name": "v1", "served": True, "storage": True,
                      "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}],
    },
}  # fmt: skip
ROOK_CLUSTER_ID = "80fc4f4bacc064be641633e6ed25ba7e"


@pytest.fixture
def rook(place, kube_admin_api, core) -> Iterator[str]:
    """Rook's CRD, and a reconciled CephBlockPoolRadosNamespace for tenant A's place in namespace rook-…"""
    extensions = client.ApiextensionsV1Api(kube_admin_api)
    extensions.create_custom_resource_definition(CRD)
    custom = client.CustomObjectsApi(kube_admin_api)
    try:
        with temporary_namespace(core, "rook") as namespace:
            body = {
                "apiVersion": "ceph.rook.io/v1",
                "kind": "CephBlockPoolRadosNamespace",
                "metadata": {"name": "team-a"},
                "spec": {"blockPoolName": place.pool},
                "status": {"phase": "Ready", "info": {"clusterID": ROOK_CLUSTER_ID}},
            }
            for _ in range(50):  # the CRD is served a moment after it is created
                try:
                    custom.create_namespaced_custom_object(
                        "ceph.rook.io", "v1", namespace, "cephblockpoolradosnamespaces", body
                    )
                    break
                except client.ApiException as error:
                    if error.status != 404:
                        raise
                    time.sleep(0.1)
            yield namespace
    finally:
        extensions.delete_custom_resource_definition(CRD["metadata"]["name"])


def test_rooks_cluster_id_and_driver_are_used_and_its_list_left_alone(place, rook, core, storage_api, ceph_admin):
    use = binding_kube_setup(actor=place.members["admin"], binding=place.binding_a)

    assert [(item.kind, item.outcome) for item in use.objects][1] == ("ConfigMap", LEFT_TO_ROOK)
    assert ROOK_CLUSTER_ID in use.objects[1].reason
    assert (
        core.list_namespaced_config_map(place.csi_namespace, field_selector="metadata.name=ceph-csi-config").items == []
    )
    sc = storage_api.read_storage_class("berth-team-a-team-a")
    assert sc.provisioner == f"{rook}.rbd.csi.ceph.com" and sc.parameters["clusterID"] == ROOK_CLUSTER_ID

    image = unique_name("vol")
    ceph_admin.create_image(f"{place.pool}/team-a/{image}", "64M")
    where = {"cluster": place.binding_a.cluster, "pool": place.pool, "namespace": "team-a", "name": image}
    volume = image_kube_volume_create(
        actor=place.members["admin"], **where, kube_namespace=place.app_namespace, claim="data"
    )
    pv = core.read_persistent_volume(volume.objects[0].name)
    assert pv.spec.csi.driver == f"{rook}.rbd.csi.ceph.com"
    assert pv.spec.csi.volume_attributes["clusterID"] == ROOK_CLUSTER_ID
    # The volume of Rook's driver protects its image too.
    with pytest.raises(Exception) as refused:
        images.image_rename(actor=place.members["admin"], **where, new_name="elsewhere")
    assert getattr(refused.value, "code", "") == "image_in_use_by_kubernetes"
