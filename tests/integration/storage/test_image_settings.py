"""QoS limits, features after creation and image metadata, against the real dev cluster; what is
read back comes from the `rbd` CLI, not from Berth."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from dashboard.audit.models import AuditEvent
from dashboard.core.errors import InvalidInput, NotFound
from dashboard.tenancy.models import Membership, Tenant
from storage.models import StorageBinding
from storage.services import features, metadata, qos
from storage.services.images import image_create
from tests.helpers import api_client_as, unique_name

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def image(ceph_cluster, admin_user, storage_pool):
    name = unique_name("img")
    image_create(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="", name=name, size="64MiB")
    return name


def where(cluster, pool, name):
    return {"cluster": cluster, "pool": pool, "namespace": "", "name": name}


def rbd_config(ceph_admin, spec: str) -> dict[str, tuple[str, str]]:
    entries = json.loads(ceph_admin.rbd("config", "image", "list", spec, "--format", "json"))
    return {entry["name"]: (entry["value"], entry["source"]) for entry in entries if entry["name"] in qos.QOS_OPTIONS}


def rbd_features(ceph_admin, spec: str) -> set[str]:
    return set(json.loads(ceph_admin.rbd("info", spec, "--format", "json"))["features"])


# --- QoS -----------------------------------------------------------------------------------------


def test_image_qos_is_set_read_back_and_dropped(ceph_cluster, ceph_admin, admin_user, storage_pool, image):
    spec = f"{storage_pool}/{image}"
    settings = qos.image_qos_set(
        actor=admin_user,
        **where(ceph_cluster, storage_pool, image),
        changes={"rbd_qos_iops_limit": 500, "rbd_qos_write_bps_burst": 10 << 20},
    )
    assert {s.option: (s.value, s.source) for s in settings}["rbd_qos_iops_limit"] == (500, "image")
    assert rbd_config(ceph_admin, spec)["rbd_qos_iops_limit"] == ("500", "image")
    assert rbd_config(ceph_admin, spec)["rbd_qos_write_bps_burst"] == (str(10 << 20), "image")
    event = AuditEvent.objects.get(action="storage.image.set_qos")
    assert event.parameters["changes"]["rbd_qos_iops_limit"] == 500

    qos.image_qos_set(
        actor=admin_user, **where(ceph_cluster, storage_pool, image), changes={"rbd_qos_iops_limit": None}
    )
    assert rbd_config(ceph_admin, spec)["rbd_qos_iops_limit"] == ("0", "config")


def test_pool_default_reaches_images_in_its_namespaces_and_the_image_override_wins(
    ceph_cluster, ceph_admin, admin_user, storage_pool, image
):
    namespace = unique_name("qos-ns")
    ceph_admin.create_namespace(f"{storage_pool}/{namespace}")
    ceph_admin.create_image(f"{storage_pool}/{namespace}/inner", "8M")
    try:
        qos.pool_qos_set(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, changes={"rbd_qos_bps_limit": 4096})
        assert rbd_config(ceph_admin, f"{storage_pool}/{namespace}/inner")["rbd_qos_bps_limit"] == ("4096", "pool")
        qos.image_qos_set(
            actor=admin_user, **where(ceph_cluster, storage_pool, image), changes={"rbd_qos_bps_limit": 1}
        )
        shown = {
            s.option: (s.value, s.source)
            for s in qos.image_qos_get(actor=admin_user, **where(ceph_cluster, storage_pool, image))
        }
        assert shown["rbd_qos_bps_limit"] == (1, "image")
        assert {
            s.option: s.source for s in qos.pool_qos_get(actor=admin_user, cluster=ceph_cluster, pool=storage_pool)
        }["rbd_qos_bps_limit"] == "pool"
    finally:
        qos.pool_qos_set(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, changes={"rbd_qos_bps_limit": None})
        ceph_admin.rbd("rm", f"{storage_pool}/{namespace}/inner")
        ceph_admin.rbd("namespace", "rm", f"{storage_pool}/{namespace}")
    assert "conf_rbd_qos_bps_limit" not in ceph_admin.rbd("config", "pool", "list", storage_pool)


def test_qos_refuses_unknown_options_and_negative_values(ceph_cluster, admin_user, storage_pool, image):
    with pytest.raises(InvalidInput) as unknown:
        qos.image_qos_set(actor=admin_user, **where(ceph_cluster, storage_pool, image), changes={"rbd_cache": 1})
    assert unknown.value.code == "invalid_qos_option"
    with pytest.raises(InvalidInput) as negative:
        qos.image_qos_set(
            actor=admin_user, **where(ceph_cluster, storage_pool, image), changes={"rbd_qos_iops_limit": -1}
        )
    assert negative.value.code == "invalid_qos_value"


def test_a_namespace_tenant_may_not_set_the_shared_pools_defaults(ceph_cluster, ceph_admin, storage_pool):
    namespace = unique_name("qos-t")
    ceph_admin.create_namespace(f"{storage_pool}/{namespace}")
    tenant = Tenant.objects.create(name="QoS", slug=namespace)
    StorageBinding.objects.create(tenant=tenant, cluster=ceph_cluster, pool=storage_pool, namespace=namespace)
    user = get_user_model().objects.create_user(f"{namespace}-admin")
    Membership.objects.create(user=user, tenant=tenant, role="admin")
    try:
        with pytest.raises(NotFound):
            qos.pool_qos_set(actor=user, cluster=ceph_cluster, pool=storage_pool, changes={"rbd_qos_iops_limit": 1})
        assert "conf_rbd_qos_iops_limit" not in ceph_admin.rbd("config", "pool", "list", storage_pool)
    finally:
        ceph_admin.rbd("namespace", "rm", f"{storage_pool}/{namespace}")


def test_qos_api_and_page(ceph_cluster, ceph_admin, admin_user, admin_client, storage_pool, image):
    api = api_client_as(admin_user)
    url = reverse("api:storage-image-qos", kwargs={"pool": storage_pool, "name": image})
    answer = api.patch(url, {"rbd_qos_read_iops_limit": 200}, format="json")
    assert answer.status_code == 200, answer.json()
    assert {row["option"]: row["source"] for row in answer.json()}["rbd_qos_read_iops_limit"] == "image"
    assert api.patch(url, {"rbd_qos_read_iops_limit": -5}, format="json").status_code == 400
    page = admin_client.get(reverse("storage:image-qos", args=[storage_pool, image]))
    assert page.status_code == 200
    assert "krbd" in page.content.decode() and 'value="200"' in page.content.decode()
    saved = admin_client.post(
        reverse("storage:image-qos", args=[storage_pool, image]), {"rbd_qos_write_iops_limit": "300"}
    )
    assert saved.status_code == 302
    config = rbd_config(ceph_admin, f"{storage_pool}/{image}")
    # The form holds every option: the read limit left empty goes back to inheriting.
    assert (config["rbd_qos_write_iops_limit"], config["rbd_qos_read_iops_limit"]) == (
        ("300", "image"),
        ("0", "config"),
    )


# --- Features ------------------------------------------------------------------------------------


def test_features_follow_librbds_rules_and_the_object_map_is_rebuilt(
    ceph_cluster, ceph_admin, admin_user, storage_pool, image
):
    spec = f"{storage_pool}/{image}"
    ceph_admin.rbd("bench", "--io-type", "write", "--io-total", "8M", spec)
    after = features.image_features_update(
        actor=admin_user, **where(ceph_cluster, storage_pool, image), features={"object-map": False, "fast-diff": False}
    )
    assert "object-map" not in after and rbd_features(ceph_admin, spec) >= {"exclusive-lock"}

    with pytest.raises(InvalidInput) as lock_needed:
        features.image_features_update(
            actor=admin_user,
            **where(ceph_cluster, storage_pool, image),
            features={"exclusive-lock": False, "object-map": True, "fast-diff": True},
        )
    assert "object-map needs exclusive-lock" in lock_needed.value.message

    features.image_features_update(
        actor=admin_user, **where(ceph_cluster, storage_pool, image), features={"object-map": True, "fast-diff": True}
    )
    info = json.loads(ceph_admin.rbd("info", spec, "--format", "json"))
    assert {"object-map", "fast-diff"} <= set(info["features"])
    assert info["flags"] == [], "the object map was left invalid instead of rebuilt"

    features.image_features_update(
        actor=admin_user, **where(ceph_cluster, storage_pool, image), features={"deep-flatten": False}
    )
    with pytest.raises(InvalidInput) as once_gone:
        features.image_features_update(
            actor=admin_user, **where(ceph_cluster, storage_pool, image), features={"deep-flatten": True}
        )
    assert "can only be disabled" in once_gone.value.message
    assert "deep-flatten" not in rbd_features(ceph_admin, spec)


def test_features_api_and_page(ceph_cluster, ceph_admin, admin_user, admin_client, storage_pool, image):
    api = api_client_as(admin_user)
    url = reverse("api:storage-image-features", kwargs={"pool": storage_pool, "name": image})
    refused = api.patch(url, {"features": {"layering": False}}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "feature_change_refused")
    answer = api.patch(url, {"features": {"fast-diff": False, "object-map": False}}, format="json")
    assert answer.status_code == 200 and "fast-diff" not in answer.json()["features"]
    page = reverse("storage:image-features", args=[storage_pool, image])
    assert admin_client.get(page).status_code == 200
    done = admin_client.post(
        page, {"exclusive-lock": "on", "object-map": "on", "fast-diff": "on", "deep-flatten": "on"}
    )
    assert done.status_code == 302
    assert {"object-map", "fast-diff", "deep-flatten"} <= rbd_features(ceph_admin, f"{storage_pool}/{image}")


# --- Metadata ------------------------------------------------------------------------------------


def test_metadata_set_list_remove_and_conf_keys_refused(ceph_cluster, ceph_admin, admin_user, storage_pool, image):
    spec = f"{storage_pool}/{image}"
    metadata.image_metadata_set(actor=admin_user, **where(ceph_cluster, storage_pool, image), key="owner", value="ops")
    assert ceph_admin.rbd("image-meta", "get", spec, "owner").strip() == "ops"
    qos.image_qos_set(actor=admin_user, **where(ceph_cluster, storage_pool, image), changes={"rbd_qos_iops_limit": 9})
    listed = metadata.image_metadata_list(actor=admin_user, **where(ceph_cluster, storage_pool, image))
    assert [(e.key, e.value, e.managed_by_qos) for e in listed] == [
        ("conf_rbd_qos_iops_limit", "9", True),
        ("owner", "ops", False),
    ]
    with pytest.raises(InvalidInput) as reserved:
        metadata.image_metadata_set(
            actor=admin_user, **where(ceph_cluster, storage_pool, image), key="conf_rbd_qos_iops_limit", value="1"
        )
    assert reserved.value.code == "metadata_key_reserved" and "QoS" in reserved.value.message
    metadata.image_metadata_remove(actor=admin_user, **where(ceph_cluster, storage_pool, image), key="owner")
    assert "owner" not in ceph_admin.rbd("image-meta", "list", spec)
    with pytest.raises(NotFound) as gone:
        metadata.image_metadata_remove(actor=admin_user, **where(ceph_cluster, storage_pool, image), key="owner")
    assert gone.value.code == "metadata_not_found"


def test_metadata_api_and_pages(ceph_cluster, ceph_admin, admin_user, admin_client, storage_pool, image):
    api = api_client_as(admin_user)
    url = reverse("api:storage-image-metadata-detail", kwargs={"pool": storage_pool, "name": image, "key": "team"})
    assert api.put(url, {"value": "blue"}, format="json").status_code == 200
    listed = api.get(reverse("api:storage-image-metadata-list", kwargs={"pool": storage_pool, "name": image}))
    assert listed.json() == [{"key": "team", "value": "blue", "managed_by_qos": False}]
    conf = reverse(
        "api:storage-image-metadata-detail", kwargs={"pool": storage_pool, "name": image, "key": "conf_rbd_cache"}
    )
    assert api.put(conf, {"value": "false"}, format="json").json()["code"] == "metadata_key_reserved"
    page = admin_client.get(reverse("storage:image-metadata", args=[storage_pool, image]))
    assert 'data-key="team"' in page.content.decode()
    assert (
        admin_client.post(
            reverse("storage:image-metadata", args=[storage_pool, image]), {"key": "conf_x", "value": "1"}
        ).status_code
        == 400
    )
    removed = admin_client.post(reverse("storage:image-metadata-remove", args=[storage_pool, image, "team"]))
    assert removed.status_code == 302
    assert api.delete(url).status_code == 404
