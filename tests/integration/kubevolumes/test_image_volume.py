"""An image as a static PersistentVolume and its claim on the real kube-apiserver, the pre-checks on the real
Ceph image, and (as ceph-csi's node plugin would) the image named by the volume opened with the key in the
generated Secret.

The test cluster runs no PersistentVolume binder (tests/services/kube.py: CONTROLLERS) and no ceph-csi, so the
claim stays Pending and nothing is mapped: what is checked is what the API server accepted and stores."""

import base64
import errno
import json

import pytest
import rados
import rbd

from dashboard.audit.models import AuditEvent
from dashboard.core.errors import Conflict, InvalidInput, PermissionDenied
from dashboard.kubevolumes.services import binding_kube_setup, image_kube_volume_create
from registry.services.csi import CREATED
from storage.services.tenant_keys import tenant_key_exists, tenant_key_revoke
from tests.helpers import unique_name

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TIMEOUTS = {"client_mount_timeout": "5", "rados_mon_op_timeout": "5", "rados_osd_op_timeout": "5"}


@pytest.fixture
def image(place, ceph_admin) -> str:
    name = unique_name("vol")
    ceph_admin.create_image(f"{place.pool}/team-a/{name}", "64M")
    return name


@pytest.fixture
def minted(place):
    """The binding's objects written, with a key minted into ceph-csi's Secret; revoked afterwards."""
    binding_kube_setup(actor=place.members["admin"], binding=place.binding_a, mint_key=True)
    yield
    if tenant_key_exists(actor=place.members["admin"], binding=place.binding_a):
        tenant_key_revoke(actor=place.members["admin"], binding=place.binding_a)


def create(place, image: str, **choices):
    arguments = {"kube_namespace": place.app_namespace, "claim": "data", **choices}
    return image_kube_volume_create(
        actor=place.members["admin"], cluster=place.binding_a.cluster, pool=place.pool, namespace="team-a", name=image,
        **arguments,
    )  # fmt: skip


def test_the_volume_names_the_image_and_only_the_claim_may_bind_it(place, image, core):
    volume = create(place, image, volume_mode="Filesystem", fs_type="xfs")

    assert [(item.kind, item.outcome) for item in volume.objects] == [
        ("PersistentVolume", CREATED),
        ("PersistentVolumeClaim", CREATED),
    ]
    pv = core.read_persistent_volume(volume.objects[0].name)
    assert pv.spec.csi.driver == "rbd.csi.ceph.com" and pv.spec.csi.volume_handle == image
    attributes = pv.spec.csi.volume_attributes
    assert attributes["staticVolume"] == "true" and attributes["pool"] == place.pool
    assert attributes["imageFeatures"] == "layering,exclusive-lock,object-map,fast-diff,deep-flatten"
    assert len(attributes["clusterID"]) <= 36
    assert pv.spec.csi.fs_type == "xfs" and pv.spec.volume_mode == "Filesystem"
    assert pv.spec.csi.node_stage_secret_ref.name == "berth-team-a-team-a"
    assert pv.spec.csi.node_stage_secret_ref.namespace == place.csi_namespace
    assert pv.spec.persistent_volume_reclaim_policy == "Retain"
    assert (pv.spec.claim_ref.namespace, pv.spec.claim_ref.name) == (place.app_namespace, "data")
    assert pv.spec.capacity["storage"] == str(64 << 20)

    claim = core.read_namespaced_persistent_volume_claim("data", place.app_namespace)
    assert claim.spec.volume_name == pv.metadata.name and claim.spec.storage_class_name == ""
    assert claim.spec.resources.requests["storage"] == str(64 << 20)
    # No PersistentVolume binder runs here: the claim waits, as it would for a missing controller.
    assert claim.status.phase == "Pending"
    event = AuditEvent.objects.get(action="kubernetes.image.volume_create")
    assert event.outcome == "success" and event.tenant_slug == "team-a"


def test_a_block_volume_has_no_file_system(place, image, core):
    volume = create(place, image, volume_mode="Block")
    pv = core.read_persistent_volume(volume.objects[0].name)
    assert pv.spec.volume_mode == "Block" and pv.spec.csi.fs_type is None


def test_an_image_in_use_is_refused(place, image, ceph_dev_cluster):
    handle = rados.Rados(conffile=str(ceph_dev_cluster.conf), name=ceph_dev_cluster.client_name,
                         conf={"keyring": str(ceph_dev_cluster.client_keyring), **TIMEOUTS})  # fmt: skip
    handle.connect()
    try:
        with handle.open_ioctx(place.pool) as ioctx:
            ioctx.set_namespace("team-a")
            with rbd.Image(ioctx, image):
                with pytest.raises(Conflict) as refused:
                    create(place, image)
    finally:
        handle.shutdown()
    assert refused.value.code == "image_busy" and "open by 1 client" in refused.value.message


def test_features_the_kernel_cannot_map_are_refused_with_the_rule(place, ceph_admin, core):
    name = unique_name("journal")
    ceph_admin.rbd(
        "create",
        "--size",
        "64M",
        "--image-feature",
        "layering,exclusive-lock,journaling",
        f"{place.pool}/team-a/{name}",
    )
    with pytest.raises(InvalidInput) as refused:
        create(place, name)
    assert refused.value.code == "image_features_unmappable"
    assert "journaling" in refused.value.message and "Linux 5.3" in refused.value.message
    assert core.list_persistent_volume(label_selector="berth.io/tenant=team-a").items == []


def test_a_namespace_of_another_tenant_is_refused(place, image, core):
    with pytest.raises(InvalidInput) as refused:
        create(place, image, kube_namespace=place.other_namespace)
    assert refused.value.code == "kube_namespace_not_tenants"
    assert core.list_namespaced_persistent_volume_claim(place.other_namespace).items == []


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_tenant_admins_make_volumes(place, image, role):
    with pytest.raises(PermissionDenied):
        image_kube_volume_create(
            actor=place.members[role], cluster=place.binding_a.cluster, pool=place.pool, namespace="team-a",
            name=image, kube_namespace=place.app_namespace, claim="data",
        )  # fmt: skip


def test_a_claim_refused_by_kubernetes_leaves_no_volume_behind(place, image, ceph_admin, core):
    create(place, image, claim="data")
    other = unique_name("vol")
    ceph_admin.create_image(f"{place.pool}/team-a/{other}", "64M")
    with pytest.raises(Conflict) as refused:
        # The claim name is taken: the second volume would wait for a claim that is another's.
        create(place, other, claim="data")
    assert refused.value.code == "already_exists"
    volumes = core.list_persistent_volume(label_selector="berth.io/tenant=team-a").items
    # Deleted: the API server keeps it until the pv-protection controller, which does not run here, lets go.
    assert [pv.metadata.name for pv in volumes if pv.metadata.deletion_timestamp is None] == [
        f"berth-team-a-team-a-{image}"
    ]
    with pytest.raises(Conflict):
        create(place, image, claim="data-2")


# --- End to end on the Ceph side: what ceph-csi's node plugin does with the generated objects -------------


def node_plugin_open(endpoints, core, csi_namespace: str, pv) -> None:
    """Open the image the volume names as ceph-csi would: the user and key from the nodeStageSecretRef's
    Secret, the RADOS namespace from the clusterID's `ceph-csi-config` entry, the pool from the attributes."""
    ref = pv.spec.csi.node_stage_secret_ref
    secret = core.read_namespaced_secret(ref.name, ref.namespace).data
    user, key = (base64.b64decode(secret[field]).decode() for field in ("userID", "userKey"))
    config = json.loads(core.read_namespaced_config_map("ceph-csi-config", csi_namespace).data["config.json"])
    attributes = pv.spec.csi.volume_attributes
    [entry] = [item for item in config if item["clusterID"] == attributes["clusterID"]]
    handle = rados.Rados(conffile=None, name=f"client.{user}", conf={"mon_host": ",".join(entry["monitors"]),
                                                                     "key": key, **TIMEOUTS})  # fmt: skip
    handle.connect()
    try:
        with handle.open_ioctx(attributes["pool"]) as ioctx:
            ioctx.set_namespace(entry["rbd"]["radosNamespace"])
            with rbd.Image(ioctx, pv.spec.csi.volume_handle) as opened:
                opened.write(b"written by the node plugin", 0)
    finally:
        handle.shutdown()


def test_the_node_plugin_opens_the_volume_with_the_generated_objects(
    place, image, minted, ceph_dev_cluster, ceph_admin, core
):
    volume = create(place, image)
    pv = core.read_persistent_volume(volume.objects[0].name)

    node_plugin_open(ceph_dev_cluster, core, place.csi_namespace, pv)

    assert "written by the node plugin" in ceph_admin.rbd("export", f"{place.pool}/team-a/{image}", "-")[:64]


def test_the_same_key_cannot_open_an_image_in_another_namespace(
    place, image, minted, ceph_dev_cluster, ceph_admin, core
):
    """A volume edited by hand to name tenant B's image (same pool, its RBD namespace) gets nowhere."""
    theirs = unique_name("theirs")
    ceph_admin.create_image(f"{place.pool}/team-b/{theirs}", "64M")
    volume = create(place, image)
    pv = core.read_persistent_volume(volume.objects[0].name)
    pv.spec.csi.volume_handle = theirs
    config_map = core.read_namespaced_config_map("ceph-csi-config", place.csi_namespace)
    entries = json.loads(config_map.data["config.json"])
    for entry in entries:
        entry["rbd"]["radosNamespace"] = "team-b"
    config_map.data["config.json"] = json.dumps(entries)
    core.replace_namespaced_config_map("ceph-csi-config", place.csi_namespace, config_map)

    with pytest.raises((rbd.PermissionError, rados.PermissionError, rbd.Error)) as refused:
        node_plugin_open(ceph_dev_cluster, core, place.csi_namespace, pv)
    assert getattr(refused.value, "errno", None) in (errno.EPERM, errno.EACCES)
