"""ceph-csi's objects as plain data: names, the cluster list merge, the StorageClass and static volume."""

import json

import pytest

from dashboard.core.errors import InvalidInput
from registry.services import csi
from storage.services.csi import KERNEL_FEATURES, MAX_CLUSTER_ID, csi_cluster_id, kernel_unmappable

pytestmark = pytest.mark.unit

OTHER = {"clusterID": "rook-ceph", "monitors": ["10.0.0.9:6789"], "cephFS": {"subvolumeGroup": "csi"}}
ENTRY = csi.csi_config_entry(cluster_id="berth-abc", monitors=["10.0.0.1:6789"], rados_namespace="team-a")


def test_names_stay_as_written_when_kubernetes_accepts_them():
    assert csi.csi_object_name("team-a", "apps") == "berth-team-a-apps"


def test_names_kubernetes_would_refuse_are_cleaned_and_kept_apart():
    upper, lower = csi.csi_object_name("team-a", "Apps_1"), csi.csi_object_name("team-a", "apps-1")
    assert upper != lower and upper.startswith("berth-team-a-apps-1-")
    assert len(csi.kube_name("x" * 300)) == 253


def test_the_entry_is_added_without_touching_the_others():
    merged = json.loads(csi.csi_config_merged(json.dumps([OTHER]), ENTRY, where="here"))
    assert merged == [OTHER, ENTRY]


def test_the_entry_replaces_its_older_self_in_place():
    old = {**ENTRY, "monitors": ["10.0.0.2:6789"]}
    merged = json.loads(csi.csi_config_merged(json.dumps([old, OTHER]), ENTRY, where="here"))
    assert merged == [ENTRY, OTHER]


@pytest.mark.parametrize("existing", [None, "", "  "])
def test_an_empty_list_starts_with_the_entry(existing):
    assert json.loads(csi.csi_config_merged(existing, ENTRY, where="here")) == [ENTRY]


@pytest.mark.parametrize("existing", ["{not json", '{"clusterID": "x"}', "[1, 2]"])
def test_a_list_berth_cannot_read_is_refused_not_overwritten(existing):
    with pytest.raises(InvalidInput) as refused:
        csi.csi_config_merged(existing, ENTRY, where="ConfigMap ceph-csi-config")
    assert refused.value.code == "csi_config_invalid"
    assert "ConfigMap ceph-csi-config" in refused.value.message


def test_the_cluster_id_is_at_most_36_bytes_and_follows_the_binding_not_the_tenant():
    class Binding:
        key_id = __import__("uuid").UUID("12345678-1234-5678-1234-567812345678")

    cluster_id = csi_cluster_id(Binding())
    assert len(cluster_id.encode()) <= MAX_CLUSTER_ID
    assert cluster_id == csi_cluster_id(Binding()) == "berth-123456781234567812345678123456"


def test_the_secret_names_the_user_without_client_and_redacts_an_unknown_key():
    secret = csi.csi_secret_manifest(name="s", namespace="ceph-csi-rbd", tenant="t", user_id="berth-x", user_key=None)
    assert secret["stringData"]["userID"] == "berth-x"
    assert secret["stringData"]["userKey"] == csi.REDACTED


def test_the_storage_class_carries_every_parameter_ceph_csi_reads():
    sc = csi.storage_class_manifest(
        name="berth-t-n",
        tenant="t",
        provisioner="rbd.csi.ceph.com",
        cluster_id="berth-abc",
        pool="rbd",
        image_features=list(KERNEL_FEATURES),
        secret="berth-t-n",
        secret_namespace="ceph-csi-rbd",
        fs_type="xfs",
        reclaim_policy="Retain",
    )
    parameters = sc["parameters"]
    for kind in ("provisioner", "controller-expand", "node-stage"):
        assert parameters[f"csi.storage.k8s.io/{kind}-secret-name"] == "berth-t-n"
        assert parameters[f"csi.storage.k8s.io/{kind}-secret-namespace"] == "ceph-csi-rbd"
    assert parameters["clusterID"] == "berth-abc" and parameters["pool"] == "rbd"
    assert parameters["imageFeatures"] == "layering,exclusive-lock,object-map,fast-diff,deep-flatten"
    assert parameters["csi.storage.k8s.io/fstype"] == "xfs" and parameters["volumeNamePrefix"] == "k8s-"
    assert sc["reclaimPolicy"] == "Retain" and sc["allowVolumeExpansion"] is True


def test_journaling_and_striping_are_not_for_the_kernel_client():
    assert kernel_unmappable(["layering", "exclusive-lock", "journaling", "striping"]) == ["journaling", "striping"]


def test_a_block_volume_has_no_fs_type():
    pv = csi.persistent_volume_manifest(
        name="pv", tenant="t", provisioner="rbd.csi.ceph.com", cluster_id="c", pool="rbd", rbd_namespace="n",
        image="img", size=1 << 30, features=["layering"], secret="s", secret_namespace="ns", claim_namespace="app",
        claim="data", volume_mode="Block",
    )  # fmt: skip
    assert "fsType" not in pv["spec"]["csi"] and pv["spec"]["volumeMode"] == "Block"
    assert pv["spec"]["claimRef"]["namespace"] == "app" and pv["spec"]["capacity"]["storage"] == str(1 << 30)
