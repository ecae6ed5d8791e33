"""An image a PersistentVolume names is not trashed, deleted, renamed or shrunk, whichever way the request
comes; the refusal names the volume, its claim and the pods using it. Platform admins may force it."""

import pytest
from django.urls import reverse
from kubernetes import client

from dashboard.audit.models import AuditEvent
from dashboard.core.errors import Conflict, PermissionDenied
from dashboard.kubevolumes.services import image_kube_volume_create, kube_volumes_stranded
from dashboard.tasks.models import BackgroundTask
from storage.services import images
from storage.services.csi import csi_cluster_id
from tests.helpers import api_client_as, unique_name, wait_for_task
from tests.integration.kubevolumes.test_binding_pages import browser_as

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def image(place, ceph_admin) -> str:
    name = unique_name("vol")
    ceph_admin.create_image(f"{place.pool}/team-a/{name}", "64M")
    return name


@pytest.fixture
def claimed(place, image, core) -> str:
    """The image as a static volume claimed by `data`, which a pod mounts; the volume's name."""
    volume = image_kube_volume_create(
        actor=place.members["admin"], cluster=place.binding_a.cluster, pool=place.pool, namespace="team-a",
        name=image, kube_namespace=place.app_namespace, claim="data",
    )  # fmt: skip
    core.create_namespaced_pod(
        place.app_namespace,
        {
            "metadata": {"name": "app"},
            "spec": {
                "containers": [{"name": "app", "image": "busybox", "volumeMounts": [{"name": "d", "mountPath": "/d"}]}],
                "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}],
            },
        },
    )
    return volume.objects[0].name


def where(place, image: str) -> dict:
    return {"cluster": place.binding_a.cluster, "pool": place.pool, "namespace": "team-a", "name": image}


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda place, image, actor: images.image_delete(actor=actor, **where(place, image)), id="trash"),
        pytest.param(
            lambda place, image, actor: images.image_delete(
                actor=actor, **where(place, image), to_trash=False, confirm_name=image
            ),
            id="delete",
        ),
        pytest.param(
            lambda place, image, actor: images.image_rename(actor=actor, **where(place, image), new_name="elsewhere"),
            id="rename",
        ),
        pytest.param(
            lambda place, image, actor: images.image_resize(
                actor=actor, **where(place, image), size="32M", allow_shrink=True
            ),
            id="shrink",
        ),
    ],
)
def test_a_change_that_would_strand_the_volume_is_refused(place, image, claimed, ceph_admin, change):
    with pytest.raises(Conflict) as refused:
        change(place, image, place.members["admin"])

    assert refused.value.code == "image_in_use_by_kubernetes"
    message = refused.value.message
    assert claimed in message and f"claim {place.app_namespace}/data" in message
    assert f"pod {place.app_namespace}/app" in message
    assert image in ceph_admin.rbd("ls", f"{place.pool}/team-a")
    assert ceph_admin.rbd("info", "--format", "json", f"{place.pool}/team-a/{image}").count(str(64 << 20))


def test_growing_is_fine(place, image, claimed):
    grown = images.image_resize(actor=place.members["admin"], **where(place, image), size="128M")
    assert grown.size == 128 << 20


def test_a_volume_ceph_csi_provisioned_counts_too(place, image, core):
    """A dynamic volume names its image in `imageName`, its place by the clusterID of the StorageClass."""
    core.create_persistent_volume(
        {
            "metadata": {"name": f"pvc-{image}", "labels": {"app.kubernetes.io/managed-by": "berth"}},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "capacity": {"storage": "64Mi"},
                "csi": {
                    "driver": "rbd.csi.ceph.com",
                    "volumeHandle": f"0001-0024-{csi_cluster_id(place.binding_a)}-0000000000000003-0123",
                    "volumeAttributes": {
                        "clusterID": csi_cluster_id(place.binding_a),
                        "pool": place.pool,
                        "imageName": image,
                    },
                },
            },
        }
    )
    with pytest.raises(Conflict) as refused:
        images.image_rename(actor=place.members["admin"], **where(place, image), new_name="elsewhere")
    assert f"PersistentVolume pvc-{image} on Kubernetes cluster local." in refused.value.message


def test_volumes_of_other_places_and_drivers_do_not_count(place, image, core):
    for name, driver, cluster_id in (
        (f"other-driver-{image}", "cephfs.csi.ceph.com", csi_cluster_id(place.binding_a)),
        (f"other-place-{image}", "rbd.csi.ceph.com", csi_cluster_id(place.binding_b)),
    ):
        core.create_persistent_volume(
            {
                "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "berth"}},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "capacity": {"storage": "64Mi"},
                    "csi": {"driver": driver, "volumeHandle": image,
                            "volumeAttributes": {"clusterID": cluster_id, "pool": place.pool, "staticVolume": "true"}},
                },
            }
        )  # fmt: skip
    renamed = images.image_rename(actor=place.members["admin"], **where(place, image), new_name=f"{image}-2")
    assert renamed.name == f"{image}-2"


def test_platform_admins_may_force_it_and_it_is_recorded(place, image, claimed, admin_user, ceph_admin):
    with pytest.raises(PermissionDenied):
        images.image_delete(actor=place.members["admin"], **where(place, image), force_in_use=True)

    images.image_delete(actor=admin_user, **where(place, image), force_in_use=True)

    assert image not in ceph_admin.rbd("ls", f"{place.pool}/team-a")
    forced = AuditEvent.objects.filter(action="storage.image.delete", outcome="success").get()
    assert forced.parameters["force_in_use"] is True and forced.actor_name == admin_user.username


def test_through_the_api_and_the_image_page(place, image, claimed):
    api = api_client_as(place.members["admin"])
    url = reverse("api:storage-image-detail", args=[place.pool, image]) + "?namespace=team-a"
    refused = api.delete(url, {}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "image_in_use_by_kubernetes"
    assert refused.json()["volumes"] == [claimed]

    page = browser_as(place.members["viewer"]).get(
        reverse("storage:image-detail", args=[place.pool, image]) + "?namespace=team-a"
    )
    text = page.content.decode()
    assert 'data-testid="kube-users"' in text and claimed in text and f"{place.app_namespace}/app" in text


def test_an_unreachable_cluster_is_not_taken_for_an_unused_image(place, image, silent_kube_cluster):
    from registry.models import RegistryQuota

    RegistryQuota.objects.filter(tenant=place.a).update(kube_cluster=silent_kube_cluster)
    with pytest.raises(Exception) as refused:
        images.image_delete(actor=place.members["admin"], **where(place, image))
    assert getattr(refused.value, "code", "") == "kube_unreachable"
    assert not isinstance(refused.value, client.ApiException)


def test_a_volume_whose_image_was_removed_outside_berth_is_listed(place, image, claimed, ceph_admin, admin_user):
    ceph_admin.rbd("rm", f"{place.pool}/team-a/{image}")

    found = kube_volumes_stranded(actor=admin_user)

    [stranded] = [volume for volume in found.volumes if volume.volume == claimed]
    assert stranded.image == image and stranded.claim == f"{place.app_namespace}/data"
    assert stranded.place == f"local:{place.pool}/team-a"
    page = browser_as(admin_user).get(reverse("kubernetes-stranded-volumes")).content.decode()
    assert claimed in page
    with pytest.raises(PermissionDenied):
        kube_volumes_stranded(actor=place.members["admin"])


def test_a_volume_whose_image_exists_is_not_listed(place, image, claimed, admin_user):
    assert claimed not in [volume.volume for volume in kube_volumes_stranded(actor=admin_user).volumes]


def test_the_image_list_filters_by_kubernetes_use(place, image, claimed, ceph_admin):
    spare = unique_name("spare")
    ceph_admin.create_image(f"{place.pool}/team-a/{spare}", "64M")
    listed = {
        choice: [item.name for item in images.image_list(actor=place.members["viewer"], cluster=place.binding_a.cluster,
                                                         pool=place.pool, namespace="team-a", kubernetes=choice).items]
        for choice in ("used", "unused")
    }  # fmt: skip
    # The module's pool keeps the images of earlier tests, whose volumes are gone.
    assert listed["used"] == [image] and spare in listed["unused"] and image not in listed["unused"]

    api = api_client_as(place.members["viewer"])
    url = reverse("api:storage-image-list", args=[place.pool]) + "?namespace=team-a&kubernetes=used"
    assert [item["name"] for item in api.get(url).json()["results"]] == [image]
    page = browser_as(place.members["viewer"]).get(
        reverse("storage:image-list", args=[place.pool]) + "?namespace=team-a&kubernetes=unused"
    )
    text = page.content.decode()
    assert f'data-name="{spare}"' in text and f'data-name="{image}"' not in text


# --- Through the image pages --------------------------------------------------------------------------------

UI_CHANGES = {
    "trash": ("image-delete", {"mode": "trash", "protect_days": "0", "confirm_name": ""}),
    "delete": ("image-delete", {"mode": "remove", "protect_days": "0", "confirm_name": "{image}"}),
    "rename": ("image-rename", {"new_name": "{image}-moved"}),
    "shrink": ("image-resize", {"size": "32", "size_unit": "MiB", "allow_shrink": "True"}),
}


def ui_change(web, place, image: str, change: str, **extra: str):
    view, body = UI_CHANGES[change]
    url = reverse(f"storage:{view}", args=[place.pool, image]) + "?namespace=team-a"
    return web.post(url, {**{key: value.format(image=image) for key, value in body.items()}, **extra})


def offers_force(response) -> bool:
    text = response.content.decode()
    return 'data-testid="force-in-use-warning"' in text and '<input type="text" name="force_confirm_name"' in text


@pytest.mark.parametrize("change", list(UI_CHANGES))
def test_the_image_pages_show_the_refusal_and_let_a_platform_admin_force_it(
    place, image, claimed, admin_user, ceph_admin, change
):
    web = browser_as(admin_user)
    refused = ui_change(web, place, image, change)
    text = refused.content.decode()
    assert refused.status_code == 409 and 'data-error-code="image_in_use_by_kubernetes"' in text
    assert claimed in text and f"claim {place.app_namespace}/data" in text and f"pod {place.app_namespace}/app" in text
    assert offers_force(refused) and f"Type “{image}” exactly." in text

    mistyped = ui_change(web, place, image, change, force_in_use="on", force_confirm_name="not-the-name")
    assert mistyped.status_code == 400 and offers_force(mistyped)
    assert image in ceph_admin.rbd("ls", f"{place.pool}/team-a")
    assert not AuditEvent.objects.filter(outcome="success", parameters__force_in_use=True).exists()

    forced = ui_change(web, place, image, change, force_in_use="on", force_confirm_name=image)
    assert forced.status_code == 302
    event = AuditEvent.objects.get(outcome="success", parameters__force_in_use=True)
    assert event.actor_name == admin_user.username and event.target["name"] == image
    if change == "delete":
        wait_for_task(BackgroundTask.objects.get(name="storage.image.delete"))
    listed = ceph_admin.rbd("ls", f"{place.pool}/team-a").split()
    if change == "shrink":
        info = ceph_admin.rbd("info", "--format", "json", f"{place.pool}/team-a/{image}")
        assert f'"size":{32 << 20}' in info.replace(" ", "")
    else:
        assert image not in listed
        assert (f"{image}-moved" in listed) == (change == "rename")


@pytest.mark.parametrize("change", list(UI_CHANGES))
def test_a_tenant_admin_sees_the_refusal_only_and_cannot_force_it(place, image, claimed, ceph_admin, change):
    web = browser_as(place.members["admin"])
    refused = ui_change(web, place, image, change)
    assert refused.status_code == 409 and claimed in refused.content.decode()
    assert not offers_force(refused) and b"force-in-use-warning" not in refused.content

    forcing = ui_change(web, place, image, change, force_in_use="on", force_confirm_name=image)
    assert forcing.status_code == 403 and "Only platform admins" in forcing.content.decode()
    assert image in ceph_admin.rbd("ls", f"{place.pool}/team-a").split()
    info = ceph_admin.rbd("info", "--format", "json", f"{place.pool}/team-a/{image}")
    assert f'"size":{64 << 20}' in info.replace(" ", "")
