"""A binding's ceph-csi objects on the real kube-apiserver, from the real Ceph cluster: the Secret written
when the key is minted, the `ceph-csi-config` entry merged among others, the StorageClass; and, where
Berth's credentials may not write, the same objects as YAML to apply."""

import base64
import json

import pytest
import yaml
from kubernetes import client

from dashboard.audit.models import AuditEvent
from dashboard.core.errors import PermissionDenied
from dashboard.kubevolumes.services import NOT_WRITTEN, binding_kube_preview, binding_kube_setup
from registry.models import KubeCluster, RegistryQuota
from registry.services.csi import CREATED, REDACTED, TO_APPLY, UNCHANGED, UPDATED
from storage.models import StorageQuota
from storage.services.csi import csi_cluster_id
from storage.services.tenant_keys import tenant_key_exists, tenant_key_revoke
from tests.helpers import leaks, stored_text

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FOREIGN = {"clusterID": "someone-else", "monitors": ["192.0.2.1:6789"], "rbd": {"radosNamespace": "theirs"}}


def config_entries(core, namespace: str) -> list[dict]:
    return json.loads(core.read_namespaced_config_map("ceph-csi-config", namespace).data["config.json"])


def secret_data(core, namespace: str, name: str) -> dict[str, str]:
    secret = core.read_namespaced_secret(name, namespace)
    return {key: base64.b64decode(value).decode() for key, value in secret.data.items()}


@pytest.fixture
def revoke_after(place):
    yield
    if tenant_key_exists(actor=place.members["admin"], binding=place.binding_a):
        tenant_key_revoke(actor=place.members["admin"], binding=place.binding_a)


def test_the_objects_are_written_and_the_key_only_into_the_secret(place, core, storage_api, revoke_after):
    admin = place.members["admin"]
    core.create_namespaced_config_map(
        place.csi_namespace,
        {"metadata": {"name": "ceph-csi-config"}, "data": {"config.json": json.dumps([FOREIGN])}},
    )

    use = binding_kube_setup(actor=admin, binding=place.binding_a, mint_key=True, fs_type="xfs")

    assert [(item.kind, item.outcome) for item in use.objects] == [
        ("Secret", CREATED),
        ("ConfigMap", UPDATED),
        ("StorageClass", CREATED),
    ]
    data = secret_data(core, place.csi_namespace, "berth-team-a-team-a")
    assert data["userID"] == f"berth-tenant-{place.binding_a.key_id}" and not data["userID"].startswith("client.")
    key = data["userKey"]
    assert len(base64.b64decode(key)) > 16

    foreign, ours = config_entries(core, place.csi_namespace)
    assert foreign == FOREIGN
    assert len(ours["clusterID"].encode()) <= 36
    assert ours["rbd"] == {"radosNamespace": "team-a"} and ours["monitors"]
    assert all(":" in monitor for monitor in ours["monitors"])

    sc = storage_api.read_storage_class("berth-team-a-team-a")
    assert sc.provisioner == "rbd.csi.ceph.com" and sc.reclaim_policy == "Delete" and sc.allow_volume_expansion
    assert sc.metadata.labels["app.kubernetes.io/managed-by"] == "berth"
    assert sc.parameters["clusterID"] == ours["clusterID"] and sc.parameters["pool"] == place.pool
    assert sc.parameters["csi.storage.k8s.io/node-stage-secret-namespace"] == place.csi_namespace
    assert sc.parameters["csi.storage.k8s.io/fstype"] == "xfs"

    assert use.key_minted and not use.to_apply
    assert leaks([key], stored_text()) == []
    event = AuditEvent.objects.get(action="kubernetes.binding.setup")
    assert event.outcome == "success" and event.tenant_slug == "team-a"
    assert event.parameters == {"mint_key": True, "fs_type": "xfs"}


def test_writing_again_keeps_the_cluster_id_and_changes_nothing(place, core, storage_api, revoke_after):
    admin = place.members["admin"]
    first = binding_kube_setup(actor=admin, binding=place.binding_a)
    assert [(item.kind, item.outcome) for item in first.objects] == [
        ("Secret", NOT_WRITTEN),
        ("ConfigMap", CREATED),
        ("StorageClass", CREATED),
    ]
    assert first.objects[0].manifest["stringData"]["userKey"] == REDACTED
    version = core.read_namespaced_config_map("ceph-csi-config", place.csi_namespace).metadata.resource_version

    again = binding_kube_setup(actor=admin, binding=place.binding_a)

    assert [item.outcome for item in again.objects[1:]] == [UNCHANGED, UNCHANGED]
    assert core.read_namespaced_config_map("ceph-csi-config", place.csi_namespace).metadata.resource_version == version
    # A changed choice re-creates the class: Kubernetes does not let its parameters change.
    retained = binding_kube_setup(actor=admin, binding=place.binding_a, reclaim_policy="Retain")
    assert retained.objects[2].outcome == UPDATED
    assert storage_api.read_storage_class("berth-team-a-team-a").reclaim_policy == "Retain"


def test_a_new_key_replaces_the_secret_and_the_old_key(place, core, revoke_after):
    admin = place.members["admin"]
    binding_kube_setup(actor=admin, binding=place.binding_a, mint_key=True)
    old = secret_data(core, place.csi_namespace, "berth-team-a-team-a")["userKey"]

    rotated = binding_kube_setup(actor=admin, binding=place.binding_a, mint_key=True)

    assert rotated.objects[0].outcome == UPDATED
    assert secret_data(core, place.csi_namespace, "berth-team-a-team-a")["userKey"] != old


def test_an_entry_written_meanwhile_is_kept(place, core, monkeypatch, revoke_after):
    """The merge writes under the resourceVersion it read: a change in between makes the API server refuse
    the write (409), and the merge starts again from the ConfigMap as it is now."""
    from registry.services import csi

    core.create_namespaced_config_map(
        place.csi_namespace, {"metadata": {"name": "ceph-csi-config"}, "data": {"config.json": "[]"}}
    )
    merge = csi.csi_config_merged
    calls = []

    def merge_while_someone_else_writes(existing, entry, *, where):
        calls.append(existing)
        if len(calls) == 1:
            core.replace_namespaced_config_map(
                "ceph-csi-config",
                place.csi_namespace,
                {"metadata": {"name": "ceph-csi-config"}, "data": {"config.json": json.dumps([FOREIGN])}},
            )
        return merge(existing, entry, where=where)

    monkeypatch.setattr(csi, "csi_config_merged", merge_while_someone_else_writes)
    binding_kube_setup(actor=place.members["admin"], binding=place.binding_a)

    entries = config_entries(core, place.csi_namespace)
    assert [entry["clusterID"] for entry in entries] == ["someone-else", csi_cluster_id(place.binding_a)]


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_tenant_admins_set_kubernetes_up(place, role):
    with pytest.raises(PermissionDenied) as refused:
        binding_kube_setup(actor=place.members[role], binding=place.binding_a, mint_key=True)
    assert refused.value.code == "role_denied"
    assert AuditEvent.objects.get(action="kubernetes.binding.setup").outcome == "denied"


def test_without_the_rights_the_objects_come_as_yaml_with_the_new_key_once(
    place, kube_apiserver, core, storage_api, revoke_after
):
    restricted = KubeCluster.objects.create(
        name="restricted", kubeconfig_path=str(kube_apiserver.restricted_kubeconfig)
    )
    RegistryQuota.objects.filter(tenant=place.a).update(kube_cluster=restricted)

    use = binding_kube_setup(actor=place.members["admin"], binding=place.binding_a, mint_key=True)

    assert [item.outcome for item in use.objects] == [TO_APPLY] * 3
    assert all("may not" in item.reason for item in use.objects)
    documents = list(yaml.safe_load_all(use.yaml))
    assert [document["kind"] for document in documents] == ["Secret", "ConfigMap", "StorageClass"]
    key = documents[0]["stringData"]["userKey"]
    assert key != REDACTED and leaks([key], stored_text()) == []
    with pytest.raises(client.ApiException):
        core.read_namespaced_config_map("ceph-csi-config", place.csi_namespace)
    # The page shown later has no key to show.
    later = binding_kube_preview(actor=place.members["admin"], binding=place.binding_a)
    assert yaml.safe_load_all(later.yaml).__next__()["stringData"]["userKey"] == REDACTED


def test_resource_quotas_give_the_tenants_namespaces_its_quota_and_the_others_nothing(place, core, revoke_after):
    StorageQuota.objects.update_or_create(tenant=place.a, defaults={"max_provisioned_gib": 10})

    use = binding_kube_setup(actor=place.members["admin"], binding=place.binding_a, resource_quotas=True)

    key = "berth-team-a-team-a.storageclass.storage.k8s.io/requests.storage"
    hard = {
        namespace: core.read_namespaced_resource_quota("berth-team-a-team-a", namespace).spec.hard[key]
        for namespace in (place.app_namespace, place.other_namespace, "default")
    }
    assert hard == {place.app_namespace: str(10 << 30), place.other_namespace: "0", "default": "0"}
    assert {item.kind for item in use.objects} == {"Secret", "ConfigMap", "StorageClass", "ResourceQuota"}
    # Written again: nothing changes.
    again = binding_kube_setup(actor=place.members["admin"], binding=place.binding_a, resource_quotas=True)
    assert {item.outcome for item in again.objects if item.kind == "ResourceQuota"} == {UNCHANGED}
