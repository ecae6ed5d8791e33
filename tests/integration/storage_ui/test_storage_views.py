"""The storage UI's views against the real dev Ceph cluster, through Django's test client:
inline field errors, typed-name confirmations, the shrink confirmation, htmx fragments, and a
down cluster shown as a message rather than a 500."""

import base64
import os
import struct
import time
import uuid
from functools import partial
from html import unescape

import pytest
from django.urls import reverse

from storage.models import CephCluster
from storage.services.images import image_create, image_get, image_list
from storage.services.pools import pool_list
from storage.services.trash import trash_list
from storage.validation import GiB, MiB

pytestmark = pytest.mark.integration

HTMX = {"HTTP_HX_REQUEST": "true"}


def field_errors(response, field: str) -> str:
    """The text of one field's block (its input, help and errors) in a rendered form."""
    html = unescape(response.content.decode())
    start = html.index(f'data-field="{field}"')
    end = html.find('data-field="', start + 1)
    return html[start : end if end != -1 else len(html)]


def test_pool_create_shows_each_broken_rule_next_to_its_field(admin_client, ceph_cluster):
    response = admin_client.post(reverse("storage:pool-create"), {"name": "bad name", "pg_num": "30"}, **HTMX)

    assert response.status_code == 400
    html = response.content.decode()
    assert "<html" not in html, "an htmx post gets the form fragment, not a page"
    assert "name: must not contain whitespace." in field_errors(response, "name")
    assert "pg_num: must be a power of two" in field_errors(response, "pg_num")


def test_pool_create_then_delete_only_after_typing_its_name(admin_client, admin_user, ceph_cluster):
    name = f"ui-{uuid.uuid4().hex[:8]}"
    created = admin_client.post(
        reverse("storage:pool-create"), {"name": name, "pg_num": "8", "max_bytes": "1GiB"}, **HTMX
    )
    assert created.status_code == 200
    assert created["HX-Redirect"] == reverse("storage:image-list", args=[name])
    pools = {found.name: found for found in pool_list(actor=admin_user, cluster=ceph_cluster)}
    assert pools[name].quota_max_bytes == GiB

    delete_url = reverse("storage:pool-delete", args=[name])
    refused = admin_client.post(delete_url, {"confirm_name": name + "x"}, **HTMX)
    assert refused.status_code == 400
    assert "type the name exactly" in field_errors(refused, "confirm_name")
    assert name in {found.name for found in pool_list(actor=admin_user, cluster=ceph_cluster)}

    deleted = admin_client.post(delete_url, {"confirm_name": name}, **HTMX)
    assert deleted["HX-Redirect"] == reverse("storage:pool-list")
    assert name not in {found.name for found in pool_list(actor=admin_user, cluster=ceph_cluster)}


def test_a_refusal_from_ceph_that_names_no_field_is_shown_above_the_form(admin_client, pool):
    response = admin_client.post(reverse("storage:pool-create"), {"name": pool, "pg_num": "8"}, **HTMX)

    assert response.status_code == 409
    html = unescape(response.content.decode())
    assert 'data-error-code="pool_exists"' in html
    assert f"Pool {pool} already exists" in html.split('data-field="name"')[0], "above the fields, not beside one"


def test_an_empty_pool_invites_creating_an_image(admin_client, pool):
    response = admin_client.get(reverse("storage:image-list", args=[pool]))

    assert response.status_code == 200
    html = response.content.decode()
    assert f"No images in pool {pool} — " in html
    assert f'href="{reverse("storage:image-create", args=[pool])}">create one</a>' in html


def test_image_create_refuses_a_decimal_unit_in_the_size_field(admin_client, pool):
    response = admin_client.post(
        reverse("storage:image-create", args=[pool]),
        {
            "name": "disk",
            "size": "10 GB",
            "size_unit": "GiB",
            "object_size": str(4 * MiB),
            "features": "default",
        },
        **HTMX,
    )

    assert response.status_code == 400
    assert "size: unknown unit 'GB'" in field_errors(response, "size")


def test_created_images_are_listed_searched_and_sorted_in_a_table_fragment(
    admin_client, admin_user, ceph_cluster, pool
):
    create_url = reverse("storage:image-create", args=[pool])
    for name, size in (("alpha", "2"), ("beta", "1"), ("gamma", "3")):
        response = admin_client.post(
            create_url,
            {"name": name, "size": size, "size_unit": "GiB", "object_size": str(4 * MiB), "features": "minimal"},
            **HTMX,
        )
        assert response["HX-Redirect"] == reverse("storage:image-list", args=[pool])
    assert image_list(actor=admin_user, cluster=ceph_cluster, pool=pool).total == 3

    list_url = reverse("storage:image-list", args=[pool])
    by_size = admin_client.get(list_url, {"sort": "size", "dir": "desc"}, **HTMX).content.decode()
    assert "<html" not in by_size
    assert by_size.index('data-name="gamma"') < by_size.index('data-name="alpha"') < by_size.index('data-name="beta"')
    assert "3 GiB" in by_size

    searched = admin_client.get(list_url, {"q": "et"}, **HTMX).content.decode()
    assert 'data-name="beta"' in searched and 'data-name="alpha"' not in searched
    nothing = admin_client.get(list_url, {"q": "zzz"}, **HTMX).content.decode()
    assert "Nothing matches “zzz”" in nothing


def test_shrinking_needs_an_explicit_confirmation_showing_old_and_new_size(
    admin_client, admin_user, ceph_cluster, pool
):
    image_create(actor=admin_user, cluster=ceph_cluster, pool=pool, namespace="", name="disk", size=2 * GiB)
    resize_url = reverse("storage:image-resize", args=[pool, "disk"])

    unconfirmed = admin_client.post(resize_url, {"size": "1", "size_unit": "GiB"}, **HTMX)
    assert unconfirmed.status_code == 400
    html = unconfirmed.content.decode()
    assert "2 GiB → 1 GiB" in html
    assert 'type="checkbox" name="allow_shrink"' in html
    assert image_get(actor=admin_user, cluster=ceph_cluster, pool=pool, namespace="", name="disk").size == 2 * GiB

    confirmed = admin_client.post(resize_url, {"size": "1", "size_unit": "GiB", "allow_shrink": "on"}, **HTMX)
    assert confirmed.status_code == 200, confirmed.content.decode()
    assert image_get(actor=admin_user, cluster=ceph_cluster, pool=pool, namespace="", name="disk").size == GiB


def test_immediate_removal_needs_the_typed_image_name(admin_client, admin_user, ceph_cluster, pool):
    image_create(actor=admin_user, cluster=ceph_cluster, pool=pool, namespace="", name="disk", size=GiB)

    response = admin_client.post(
        reverse("storage:image-delete", args=[pool, "disk"]), {"mode": "remove", "confirm_name": "dis"}, **HTMX
    )

    assert response.status_code == 400
    assert "type the exact name 'disk'" in field_errors(response, "confirm_name")
    assert image_get(actor=admin_user, cluster=ceph_cluster, pool=pool, namespace="", name="disk").name == "disk"


def test_a_missing_image_is_a_404_page_not_a_crash(admin_client, pool):
    response = admin_client.get(reverse("storage:image-detail", args=[pool, "no-such-image"]))

    assert response.status_code == 404
    assert 'class="alert alert-danger"' in response.content.decode()


def test_a_down_cluster_is_explained_with_a_503(admin_client, admin_user, tmp_path, settings, db):
    settings.BERTH_CEPH_TIMEOUT = 1
    key = tmp_path / "key"
    # A well-formed cephx key (type, creation time, length, secret), so only the missing monitor fails.
    key.write_text(base64.b64encode(struct.pack("<HIIH", 1, 0, 0, 16) + os.urandom(16)).decode())
    CephCluster.objects.create(
        name="gone", client_name="client.admin", mon_host="v2:127.0.0.1:1", key_path=str(key), is_default=True
    )

    page = admin_client.get(reverse("storage:pool-list"))
    fragment = admin_client.get(reverse("storage:pool-list"), **HTMX)

    assert page.status_code == 503
    assert "Ceph cluster gone is unreachable" in page.content.decode()
    assert fragment.status_code == 503
    assert "<html" not in fragment.content.decode()
    assert 'id="object-table"' in fragment.content.decode(), "the next search still finds its target"
    assert "Ceph cluster gone is unreachable" in fragment.content.decode()


def wait_for_task(admin_client, task_url: str, timeout: float = 60) -> str:
    """Polls the status fragment as the page's htmx does, until it stops asking to be polled."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fragment = admin_client.get(task_url, **HTMX).content.decode()
        if 'hx-trigger="every 1s"' not in fragment:
            return fragment
        time.sleep(0.5)
    raise AssertionError(f"task at {task_url} still running after {timeout} s")


def test_a_clone_is_flattened_in_the_background_with_progress_shown(
    transactional_db, admin_client, admin_user, ceph_cluster, pool
):
    image_create(actor=admin_user, cluster=ceph_cluster, pool=pool, namespace="", name="golden", size=64 * MiB)
    snapshot_url = partial(reverse, args=[pool, "golden", "base"])
    admin_client.post(reverse("storage:snapshot-create", args=[pool, "golden"]), {"snapshot": "base"}, **HTMX)
    assert admin_client.post(snapshot_url("storage:snapshot-protect"), **HTMX).status_code == 200
    cloned = admin_client.post(
        snapshot_url("storage:snapshot-clone"), {"dest_pool": pool, "dest_namespace": "", "dest_name": "child"}, **HTMX
    )
    assert cloned["HX-Redirect"] == reverse("storage:image-detail", args=[pool, "child"])
    child_page = admin_client.get(cloned["HX-Redirect"]).content.decode()
    assert f"{pool}/golden@base" in child_page

    started = admin_client.post(reverse("storage:image-flatten", args=[pool, "child"]), **HTMX)
    task_url = started["HX-Redirect"]
    assert task_url.startswith("/tasks/")
    task_page = admin_client.get(task_url).content.decode()
    assert "<progress" in task_page and "<html" in task_page

    finished = wait_for_task(admin_client, task_url)
    assert 'data-task-status="succeeded"' in finished
    assert f'href="{reverse("storage:image-detail", args=[pool, "child"])}"' in finished
    assert image_get(actor=admin_user, cluster=ceph_cluster, pool=pool, namespace="", name="child").parent is None


def test_a_refused_one_click_action_answers_with_an_error_toast(admin_client, admin_user, ceph_cluster, pool):
    image_create(actor=admin_user, cluster=ceph_cluster, pool=pool, namespace="", name="disk", size=GiB)

    response = admin_client.post(reverse("storage:snapshot-protect", args=[pool, "disk", "no-such-snapshot"]), **HTMX)

    assert response.status_code == 404
    assert response["HX-Reswap"] == "none", "the page the operator is on stays as it was"
    html = response.content.decode()
    assert 'hx-swap-oob="beforeend:#toasts"' in html
    assert "text-bg-danger" in html and "no-such-snapshot" in html


def test_images_of_an_rbd_namespace_are_kept_apart(admin_client, admin_user, ceph_cluster, pool):
    created = admin_client.post(reverse("storage:namespace-create", args=[pool]), {"name": "team-a"}, **HTMX)
    list_url = reverse("storage:image-list", args=[pool])
    assert created["HX-Redirect"] == f"{list_url}?namespace=team-a"

    empty = admin_client.get(list_url, {"namespace": "team-a"}).content.decode()
    assert f"No images in namespace team-a of pool {pool} — " in empty
    create_url = f"{reverse('storage:image-create', args=[pool])}?namespace=team-a"
    assert f'href="{create_url}">create one</a>' in empty

    made = admin_client.post(
        create_url,
        {"name": "disk", "size": "512 MiB", "size_unit": "GiB", "object_size": str(4 * MiB), "features": "default"},
        **HTMX,
    )
    assert made["HX-Redirect"] == f"{list_url}?namespace=team-a"
    assert (
        image_get(actor=admin_user, cluster=ceph_cluster, pool=pool, namespace="team-a", name="disk").size == 512 * MiB
    )
    assert 'data-name="disk"' in admin_client.get(list_url, {"namespace": "team-a"}, **HTMX).content.decode()
    assert 'data-name="disk"' not in admin_client.get(list_url, **HTMX).content.decode()


def test_purging_a_trash_entry_needs_its_typed_name_and_runs_in_the_background(
    transactional_db, admin_client, admin_user, ceph_cluster, pool
):
    image_create(actor=admin_user, cluster=ceph_cluster, pool=pool, namespace="", name="old", size=GiB)
    moved = admin_client.post(reverse("storage:image-delete", args=[pool, "old"]), {"mode": "trash"}, **HTMX)
    assert moved["HX-Redirect"] == reverse("storage:trash-list", args=[pool])
    [entry] = trash_list(actor=admin_user, cluster=ceph_cluster, pool=pool)
    purge_url = reverse("storage:trash-purge-entry", args=[pool, entry.id])

    refused = admin_client.post(purge_url, {"confirm_name": entry.id}, **HTMX)
    assert refused.status_code == 400
    assert "type the name exactly" in field_errors(refused, "confirm_name")

    started = admin_client.post(purge_url, {"confirm_name": "old"}, **HTMX)
    finished = wait_for_task(admin_client, started["HX-Redirect"])
    assert 'data-task-status="succeeded"' in finished
    assert trash_list(actor=admin_user, cluster=ceph_cluster, pool=pool) == []


def test_every_storage_page_renders_for_an_image_with_a_snapshot(admin_client, admin_user, ceph_cluster, pool):
    image_create(actor=admin_user, cluster=ceph_cluster, pool=pool, namespace="", name="disk", size=GiB)
    admin_client.post(reverse("storage:snapshot-create", args=[pool, "disk"]), {"snapshot": "s1"}, **HTMX)
    pages = {
        "storage:pool-list": [],
        "storage:pool-create": [],
        "storage:pool-detail": [pool],
        "storage:pool-quota": [pool],
        "storage:pool-delete": [pool],
        "storage:namespace-create": [pool],
        "storage:image-list": [pool],
        "storage:image-create": [pool],
        "storage:image-detail": [pool, "disk"],
        "storage:image-resize": [pool, "disk"],
        "storage:image-rename": [pool, "disk"],
        "storage:image-copy": [pool, "disk"],
        "storage:image-delete": [pool, "disk"],
        "storage:image-flatten": [pool, "disk"],
        "storage:snapshot-delete": [pool, "disk", "s1"],
        "storage:snapshot-rollback": [pool, "disk", "s1"],
        "storage:snapshot-clone": [pool, "disk", "s1"],
        "storage:trash-list": [pool],
        "storage:trash-purge": [pool],
    }
    for name, args in pages.items():
        response = admin_client.get(reverse(name, args=args))
        assert response.status_code == 200, f"{name}: {response.status_code}"
        assert b"<html" in response.content


def test_storage_pages_need_a_login(client, ceph_cluster):
    response = client.get(reverse("storage:pool-list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
