"""Deleting an RBD namespace and restoring a trashed image under a new name, through the storage
UI's views against the real dev Ceph cluster."""

from html import unescape

import pytest
from django.urls import reverse

from storage.services.images import image_create, image_delete, image_get
from storage.services.namespaces import namespace_create, namespace_list
from storage.services.trash import trash_list, trash_purge
from storage.validation import GiB
from tests.helpers import wait_for_task
from tests.integration.storage_ui.test_storage_views import HTMX, field_errors

pytestmark = pytest.mark.integration


@pytest.fixture
def storage(admin_user, ceph_cluster, pool):
    """The arguments every storage service takes, for the default namespace of the test's pool."""
    return {"actor": admin_user, "cluster": ceph_cluster, "pool": pool, "namespace": ""}


def trash_entry_of(storage, name: str):
    [entry] = [entry for entry in trash_list(**storage) if entry.name == name]
    return entry


def above_the_fields(response) -> str:
    html = unescape(response.content.decode())
    return html.split('data-field="')[0]


# --- restoring under a new name -----------------------------------------------------------------


def test_an_image_whose_name_was_taken_again_is_restored_under_a_new_name(admin_client, storage, pool):
    image_create(**storage, name="disk", size=GiB)
    image_delete(**storage, name="disk", to_trash=True)
    trashed = trash_entry_of(storage, "disk")
    image_create(**storage, name="disk", size=2 * GiB)

    one_click = admin_client.post(reverse("storage:trash-restore", args=[pool, trashed.id]), **HTMX)
    assert one_click.status_code == 409
    assert "already exists; restore under a new name" in unescape(one_click.content.decode())

    restore_url = reverse("storage:trash-restore-as", args=[pool, trashed.id])
    page = unescape(admin_client.get(restore_url).content.decode())
    assert trashed.id in page and 'placeholder="disk"' in page
    assert "Empty restores the image as “disk”." in page

    bad = admin_client.post(restore_url, {"new_name": "old disk"}, **HTMX)
    assert bad.status_code == 400
    assert "new_name: must not contain whitespace." in field_errors(bad, "new_name")

    taken = admin_client.post(restore_url, {"new_name": "disk"}, **HTMX)
    assert taken.status_code == 409
    assert f"Image {pool}/disk already exists; restore under a new name." in above_the_fields(taken)
    assert trash_entry_of(storage, "disk").id == trashed.id, "nothing half-done: the entry is still in the trash"

    restored = admin_client.post(restore_url, {"new_name": "disk-before"}, **HTMX)
    assert restored["HX-Redirect"] == reverse("storage:image-detail", args=[pool, "disk-before"])
    back = image_get(**storage, name="disk-before")
    assert (back.id, back.size) == (trashed.id, GiB)
    assert image_get(**storage, name="disk").size == 2 * GiB
    assert trash_list(**storage) == []
    toast = unescape(admin_client.get(restored["HX-Redirect"]).content.decode())
    assert "Image disk restored from the trash as disk-before." in toast


def test_restore_with_no_new_name_keeps_the_old_one(admin_client, storage, pool):
    image_create(**storage, name="keep", size=GiB)
    image_delete(**storage, name="keep", to_trash=True)
    trashed = trash_entry_of(storage, "keep")

    restored = admin_client.post(reverse("storage:trash-restore-as", args=[pool, trashed.id]), {"new_name": ""})

    assert restored.status_code == 302
    assert restored["Location"] == reverse("storage:image-detail", args=[pool, "keep"])
    assert image_get(**storage, name="keep").id == trashed.id


def test_the_trash_table_offers_restoring_under_a_new_name(admin_client, storage, pool):
    image_create(**storage, name="old", size=GiB)
    image_delete(**storage, name="old", to_trash=True)
    trashed = trash_entry_of(storage, "old")

    table = admin_client.get(reverse("storage:trash-list", args=[pool]), **HTMX).content.decode()

    assert f'href="{reverse("storage:trash-restore-as", args=[pool, trashed.id])}">Restore as…</a>' in table


def test_restoring_an_entry_that_is_no_longer_in_the_trash_is_a_404(admin_client, pool):
    response = admin_client.get(reverse("storage:trash-restore-as", args=[pool, "0123456789ab"]))

    assert response.status_code == 404
    assert "has no entry 0123456789ab" in response.content.decode()


# --- deleting a namespace -----------------------------------------------------------------------


def test_a_namespace_is_deleted_only_when_empty_and_after_typing_its_name(
    transactional_db, admin_client, admin_user, ceph_cluster, storage, pool
):
    namespace_create(actor=admin_user, cluster=ceph_cluster, pool=pool, name="team-a")
    inside = {**storage, "namespace": "team-a"}
    image_create(**inside, name="live", size=GiB)
    image_create(**inside, name="gone", size=GiB)
    image_delete(**inside, name="gone", to_trash=True)
    delete_url = reverse("storage:namespace-delete", args=[pool, "team-a"])
    images_url = f"{reverse('storage:image-list', args=[pool])}?namespace=team-a"
    trash_url = f"{reverse('storage:trash-list', args=[pool])}?namespace=team-a"

    page = unescape(admin_client.get(delete_url).content.decode())
    assert 'data-testid="namespace-contents"' in page
    assert f'<a href="{images_url}">1 image</a> and <a href="{trash_url}">1 trashed image</a>' in page

    mistyped = admin_client.post(delete_url, {"confirm_name": "team"}, **HTMX)
    assert mistyped.status_code == 400
    assert "type the name exactly" in field_errors(mistyped, "confirm_name")

    refused = admin_client.post(delete_url, {"confirm_name": "team-a"}, **HTMX)
    assert refused.status_code == 409
    assert (
        f"Namespace {pool}/team-a still holds images (or trashed images). Delete or move them first."
        in above_the_fields(refused)
    )
    assert 'data-error-code="namespace_not_empty"' in refused.content.decode()
    assert "team-a" in namespace_list(actor=admin_user, cluster=ceph_cluster, pool=pool)

    # With the last image in the trash, the trash alone still keeps the namespace.
    image_delete(**inside, name="live", to_trash=True)
    only_trash = admin_client.post(delete_url, {"confirm_name": "team-a"}, **HTMX)
    assert only_trash.status_code == 409
    assert f'<a href="{trash_url}">2 trashed images</a>' in unescape(only_trash.content.decode())
    assert "team-a" in namespace_list(actor=admin_user, cluster=ceph_cluster, pool=pool)

    wait_for_task(trash_purge(**inside))
    deleted = admin_client.post(delete_url, {"confirm_name": "team-a"}, **HTMX)
    assert deleted["HX-Redirect"] == reverse("storage:pool-detail", args=[pool])
    assert "team-a" not in namespace_list(actor=admin_user, cluster=ceph_cluster, pool=pool)


def test_the_pool_page_links_each_namespace_to_its_deletion(admin_client, admin_user, ceph_cluster, pool):
    namespace_create(actor=admin_user, cluster=ceph_cluster, pool=pool, name="team-b")

    page = admin_client.get(reverse("storage:pool-detail", args=[pool])).content.decode()
    images_page = admin_client.get(reverse("storage:image-list", args=[pool]), {"namespace": "team-b"})

    delete_url = reverse("storage:namespace-delete", args=[pool, "team-b"])
    assert f'href="{delete_url}">Delete</a>' in page
    assert f'href="{delete_url}">Delete namespace</a>' in images_page.content.decode()


def test_deleting_a_namespace_that_does_not_exist_is_a_404(admin_client, pool):
    response = admin_client.get(reverse("storage:namespace-delete", args=[pool, "nobody"]))

    assert response.status_code == 404
    assert f"Pool {pool} has no RBD namespace nobody." in response.content.decode()
