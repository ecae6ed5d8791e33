"""The per-image "Use in Kubernetes" page and API, through Django's test client and DRF's."""

import pytest
from django.urls import reverse

from tests.helpers import api_client_as, unique_name
from tests.integration.kubevolumes.test_binding_pages import browser_as

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def image(place, ceph_admin) -> str:
    name = unique_name("vol")
    ceph_admin.create_image(f"{place.pool}/team-a/{name}", "64M")
    return name


def page_url(place, image: str) -> str:
    return reverse("image-kubernetes", args=[place.pool, image]) + "?namespace=team-a"


def test_the_image_page_links_the_form_which_offers_only_the_tenants_namespaces(place, image):
    web = browser_as(place.members["admin"])
    image_page = web.get(reverse("storage:image-detail", args=[place.pool, image]) + "?namespace=team-a")
    assert page_url(place, image).replace("&", "&amp;") in image_page.content.decode()

    form = web.get(page_url(place, image)).content.decode()

    assert f'value="{place.app_namespace}"' in form and place.other_namespace not in form
    assert 'data-testid="volume-problems"' not in form


def test_the_form_creates_the_volume_and_claim(place, image, core):
    web = browser_as(place.members["admin"])
    answer = web.post(
        page_url(place, image),
        {"kube_namespace": place.app_namespace, "claim": "data", "volume_mode": "Filesystem", "fs_type": "ext4"},
    )
    assert 'data-testid="volume-created"' in answer.content.decode()
    assert core.read_namespaced_persistent_volume_claim("data", place.app_namespace).spec.volume_name


def test_a_journaling_image_shows_why_before_anything_is_tried(place, ceph_admin):
    name = unique_name("journal")
    ceph_admin.rbd(
        "create",
        "--size",
        "64M",
        "--image-feature",
        "layering,exclusive-lock,journaling",
        f"{place.pool}/team-a/{name}",
    )
    web = browser_as(place.members["admin"])
    page = web.get(page_url(place, name)).content.decode()
    assert 'data-testid="volume-problems"' in page and "journaling" in page

    answer = web.post(page_url(place, name), {"kube_namespace": place.app_namespace, "claim": "data",
                                              "volume_mode": "Block", "fs_type": "ext4"})  # fmt: skip
    assert answer.status_code == 200 and "cannot map" in answer.content.decode()


def test_the_api_creates_the_volume_and_refuses_another_tenants_namespace(place, image, core):
    api = api_client_as(place.members["admin"])
    url = reverse("api:kubernetes-image-volume", args=[place.pool, image]) + "?namespace=team-a"
    refused = api.post(url, {"kube_namespace": place.other_namespace, "claim": "data"}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "kube_namespace_not_tenants"

    answer = api.post(url, {"kube_namespace": place.app_namespace, "claim": "data"}, format="json")

    assert answer.status_code == 201, answer.content
    assert [item["kind"] for item in answer.json()["objects"]] == ["PersistentVolume", "PersistentVolumeClaim"]
    assert api_client_as(place.outsider).post(url, {"kube_namespace": place.app_namespace, "claim": "x"},
                                              format="json").status_code == 404  # fmt: skip
