"""The shared image list cache (storage/services/image_cache.py) against the real cluster: every change
Berth makes shows on the next list, in this process and in a fresh one; changes made with the `rbd` CLI
show at once when they touch the image directory and after the background re-read when they do not;
and the cache never lets anyone see a place they could not see without it."""

import json
import threading
import time
import tracemalloc

import pytest
from django.test import Client
from django.urls import reverse

from dashboard.tasks.services import task_start
from storage.models import StorageBinding
from storage.services import headers, image_cache, images
from storage.services.features import image_features_update
from storage.services.images import (
    image_copy,
    image_create,
    image_delete,
    image_list,
    image_list_json,
    image_rename,
    image_resize,
)
from storage.services.namespaces import namespace_create
from storage.services.snapshots import (
    image_clone,
    image_flatten,
    snapshot_create,
    snapshot_delete,
    snapshot_protect,
    snapshot_rollback,
)
from storage.services.trash import trash_list, trash_restore
from storage.validation import GiB, MiB
from tests.helpers import api_client_as, two_tenants, unique_name, wait_for_task

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def place(ceph_cluster, admin_user, storage_pool):
    namespace = unique_name("cache")
    namespace_create(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, name=namespace)
    return {"actor": admin_user, "cluster": ceph_cluster, "pool": storage_pool, "namespace": namespace}


def listed(place, *, fresh_process: bool = False) -> dict[str, tuple]:
    """name -> (size, snapshots, parent, features) as the list shows them; `fresh_process` first drops what
    this process holds, so the rows come from the shared cache as another gunicorn worker would get them."""
    image_cache.wait_for_revalidation()
    if fresh_process:
        image_cache.forget()
    page = image_list(**place, limit=1000)
    shown = {item.name: (item.size, item.snapshot_count, item.parent, item.features) for item in page.items}
    # The API's JSON of a row is kept with the cached rows: it has to change with them.
    in_api = [json.loads(item) for item in image_list_json(**place, limit=1000).items]
    assert {
        row["name"]: (row["size"], row["snapshot_count"], row["parent"], row["features"]) for row in in_api
    } == shown
    return shown


def test_every_change_berth_makes_shows_on_the_next_list(place, ceph_admin):
    spec = f"{place['pool']}/{place['namespace']}"
    image_create(**place, name="a", size="1GiB", features="default")
    image_create(**place, name="b", size="1GiB", features="default")
    assert set(listed(place)) == {"a", "b"}
    # The rows are cached: a resize made outside Berth does not show yet (it shows after a re-read)...
    ceph_admin.rbd("resize", "--size", "3G", f"{spec}/b")
    assert listed(place)["b"][0] == 1 * GiB
    # ...while every change Berth makes shows at once, here and in any other process.
    image_create(**place, name="c", size="2GiB")
    for fresh in (False, True):
        assert listed(place, fresh_process=fresh)["c"][0] == 2 * GiB

    image_resize(**place, name="a", size="4GiB")
    for fresh in (False, True):
        assert listed(place, fresh_process=fresh)["a"][0] == 4 * GiB

    image_rename(**place, name="c", new_name="c2")
    for fresh in (False, True):
        assert {"c2"} <= set(listed(place, fresh_process=fresh)) and "c" not in listed(place)

    snapshot_create(**place, image="a", snapshot="s1")
    for fresh in (False, True):
        assert listed(place, fresh_process=fresh)["a"][1] == 1

    image_resize(**place, name="a", size="5GiB")
    snapshot_rollback(**place, image="a", snapshot="s1")
    for fresh in (False, True):
        assert listed(place, fresh_process=fresh)["a"][0] == 4 * GiB

    snapshot_protect(**place, image="a", snapshot="s1")
    image_clone(
        **place, image="a", snapshot="s1", dest_pool=place["pool"], dest_namespace=place["namespace"], dest_name="kid"
    )
    for fresh in (False, True):
        assert listed(place, fresh_process=fresh)["kid"][2] == f"{spec}/a@s1"

    wait_for_task(image_flatten(**place, name="kid"))
    for fresh in (False, True):
        assert listed(place, fresh_process=fresh)["kid"][2] is None

    image_features_update(**place, name="kid", features={"fast-diff": False, "object-map": False})
    for fresh in (False, True):
        assert "object-map" not in listed(place, fresh_process=fresh)["kid"][3]

    task = image_copy(**place, dest_pool=place["pool"], dest_namespace=place["namespace"], dest_name="copy", name="c2")
    wait_for_task(task)
    for fresh in (False, True):
        assert listed(place, fresh_process=fresh)["copy"][0] == 2 * GiB

    image_delete(**place, name="copy", to_trash=True)
    for fresh in (False, True):
        assert "copy" not in listed(place, fresh_process=fresh)
    (entry,) = [entry for entry in trash_list(**place) if entry.name == "copy"]
    trash_restore(**place, image_id=entry.id)
    for fresh in (False, True):
        assert "copy" in listed(place, fresh_process=fresh)

    wait_for_task(image_delete(**place, name="copy", to_trash=False, confirm_name="copy"))
    for fresh in (False, True):
        assert "copy" not in listed(place, fresh_process=fresh)

    # The outside resize of b was never shown: only a re-read brings it in.
    assert listed(place)["b"][0] == 1 * GiB
    image_cache.revalidate(cluster=place["cluster"], pool=place["pool"], namespace=place["namespace"])
    assert listed(place)["b"][0] == 3 * GiB


def test_a_place_larger_than_a_directory_page_and_the_read_window_lists_every_image(place, ceph_admin, monkeypatch):
    # The real sizes (1,024 names a directory page, 4,096 header reads in flight, batches of 128 in a re-read)
    # need thousands of images; the same paging, with pages of 3 names, a window of 4 reads collected one at a
    # time and re-read batches of 4, needs eleven.
    monkeypatch.setattr(headers, "_DIRECTORY_PAGE", 3)
    monkeypatch.setattr(headers, "_READ_WINDOW", 4)
    monkeypatch.setattr(headers, "_COLLECTED_AT_ONCE", 1)
    monkeypatch.setattr(headers, "_PACED_WINDOW", 4)  # the periodic re-read's batches
    spec = f"{place['pool']}/{place['namespace']}"
    sizes = {f"img-{index:02d}": (11 - index) * MiB for index in range(11)}
    for name, size in sizes.items():
        ceph_admin.create_image(f"{spec}/{name}", f"{size // MiB}M")
    image_cache.forget_everywhere(cluster=place["cluster"], pool=place["pool"], namespace=place["namespace"])

    # Read for the API first: its JSON of each row is encoded while the remaining reads are in flight.
    in_api = image_list_json(**place, sort="size", limit=1000)
    by_size = image_list(**place, sort="size", limit=1000)
    expected = sorted(sizes.items(), key=lambda item: item[1])
    assert [(item.name, item.size) for item in by_size.items] == expected
    assert [(row["name"], row["size"]) for row in map(json.loads, in_api.items)] == expected
    assert by_size.total == in_api.total == 11

    # The periodic re-read goes in paced batches: it too reads every header and counts every snapshot.
    ceph_admin.rbd("resize", "--size", "20M", f"{spec}/img-05")
    for name in ("img-00", "img-04", "img-09", "img-10", "img-07"):
        ceph_admin.create_snapshot(f"{spec}/{name}@paced")
    image_cache.revalidate(cluster=place["cluster"], pool=place["pool"], namespace=place["namespace"])
    shown = listed(place)
    assert {name: (size, snapshots) for name, (size, snapshots, _, _) in shown.items()} == {
        name: (20 * MiB if name == "img-05" else size, int(name in ("img-00", "img-04", "img-09", "img-10", "img-07")))
        for name, size in sizes.items()
    }


def test_the_json_kept_with_the_rows_costs_about_its_own_length(place, ceph_admin):
    spec = f"{place['pool']}/{place['namespace']}"
    for index in range(20):
        ceph_admin.create_image(f"{spec}/kept-{index:02d}", "1M")
    image_cache.forget_everywhere(cluster=place["cluster"], pool=place["pool"], namespace=place["namespace"])
    tracemalloc.start()
    try:
        items = image_list_json(**place, limit=1000).items
        snapshot = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    # What images.py allocated and still holds: the rows' JSON, kept for the next list, and the page's list.
    held = sum(
        stat.size for stat in snapshot.filter_traces([tracemalloc.Filter(True, images.__file__)]).statistics("filename")
    )
    assert len(items) == 20
    assert held < 20 * 2 * max(map(len, items)), f"{held / 20:.0f} bytes a row for JSON of {max(map(len, items))}"


def test_snapshot_delete_shows_at_once(place):
    image_create(**place, name="s", size="1GiB")
    snapshot_create(**place, image="s", snapshot="one")
    assert listed(place)["s"][1] == 1
    snapshot_delete(**place, image="s", snapshot="one")
    for fresh in (False, True):
        assert listed(place, fresh_process=fresh)["s"][1] == 0


def test_outside_changes_show_at_once_or_after_the_background_re_read(place, ceph_admin, settings):
    # Rows stay fresh until the test lets them age: on a loaded machine the rbd commands below can outlast any
    # short interval, and a re-read started early would show the resize before the test looks for old rows.
    settings.BERTH_IMAGE_LIST_REVALIDATE = 3600
    spec = f"{place['pool']}/{place['namespace']}"
    ceph_admin.create_image(f"{spec}/one", "1G")
    ceph_admin.create_image(f"{spec}/two", "1G")
    first = image_list(**place)
    assert [item.name for item in first.items] == ["one", "two"]

    # Adds, removes and renames move the directory's version: the next list has them.
    ceph_admin.create_image(f"{spec}/three", "1G")
    ceph_admin.rbd("rm", f"{spec}/two")
    ceph_admin.rbd("rename", f"{spec}/one", f"{spec}/uno")
    assert set(listed(place)) == {"three", "uno"}

    # A resize and a snapshot leave the directory alone: they show once the rows are older than the interval,
    # a list has asked for them to be re-read, and the periodic job has re-read them in a task worker (the
    # lists serving the old rows meanwhile).
    ceph_admin.rbd("resize", "--size", "2G", f"{spec}/uno")
    ceph_admin.create_snapshot(f"{spec}/three@outside")
    assert listed(place)["uno"] == (1 * GiB, 0, None, listed(place)["uno"][3])
    assert revalidated() == {"places": 0, "skipped": []}  # nobody asked: the rows were younger than the interval
    settings.BERTH_IMAGE_LIST_REVALIDATE = 1
    time.sleep(1.1)
    for _ in range(2):
        stale = image_list(**place)
        assert {item.name: item.size for item in stale.items}["uno"] == 1 * GiB
        assert stale.as_of == first.as_of  # the page says how old its rows are
    image_cache.wait_for_revalidation()
    assert image_list(**place).as_of == first.as_of  # the web process itself re-reads nothing
    assert revalidated() == {"places": 1, "skipped": []}
    fresh = image_list(**place)
    assert {item.name: (item.size, item.snapshot_count) for item in fresh.items} == {
        "three": (1 * GiB, 1),
        "uno": (2 * GiB, 0),
    }
    assert fresh.as_of > first.as_of
    ceph_admin.rbd("snap", "rm", f"{spec}/three@outside")


def revalidated() -> dict:
    """Run the periodic re-read as the scheduler starts it, in the test's task worker; answer its result."""
    name = "storage.image_lists.revalidate"
    task = wait_for_task(task_start(actor=None, name=name, target={"job": name}, arguments={}))
    assert task.status == "succeeded", task.message
    return task.result


def test_the_periodic_re_read_skips_a_place_that_is_gone_and_re_reads_the_others(place, ceph_admin, settings):
    spec = f"{place['pool']}/{place['namespace']}"
    ceph_admin.create_image(f"{spec}/kept", "1G")
    gone = namespace_create(
        actor=place["actor"], cluster=place["cluster"], pool=place["pool"], name=unique_name("gone")
    )
    elsewhere = {**place, "namespace": gone}
    assert [item.name for item in image_list(**place).items] == ["kept"]
    assert image_list(**elsewhere).items == []
    ceph_admin.rbd("resize", "--size", "2G", f"{spec}/kept")
    settings.BERTH_IMAGE_LIST_REVALIDATE = 1
    time.sleep(1.1)
    image_list(**place)
    image_list(**elsewhere)  # asks for a re-read of a namespace about to be removed
    ceph_admin.rbd("namespace", "remove", f"{place['pool']}/{gone}")
    result = revalidated()
    assert result["places"] == 2
    [skipped] = result["skipped"]
    assert gone in skipped
    assert [(item.name, item.size) for item in image_list(**place).items] == [("kept", 2 * GiB)]


def test_refresh_on_the_page_reads_everything_again(place, ceph_admin, client):
    spec = f"{place['pool']}/{place['namespace']}"
    image_create(**place, name="page", size="1GiB")
    client.force_login(place["actor"])
    url = reverse("storage:image-list", args=[place["pool"]])
    shown = client.get(url, {"namespace": place["namespace"]})
    assert b'data-testid="image-list-age"' in shown.content and b"Refresh" in shown.content
    ceph_admin.rbd("resize", "--size", "3G", f"{spec}/page")
    assert b"1 GiB" in client.get(url, {"namespace": place["namespace"]}, HTTP_HX_REQUEST="true").content
    refreshed = client.get(url, {"namespace": place["namespace"], "refresh": "1"}, HTTP_HX_REQUEST="true")
    assert b"3 GiB" in refreshed.content
    # The answer's own links do not carry the refresh along.
    assert b"refresh=1" in refreshed.content  # the Refresh button itself
    assert refreshed.content.count(b"refresh=1") == 2  # its href and hx-get, and nothing else


def test_a_first_read_for_a_request_is_shared_once_its_response_is_sent(place, ceph_admin):
    spec = f"{place['pool']}/{place['namespace']}"
    ceph_admin.create_image(f"{spec}/shared", "1G")
    image_cache.forget_everywhere(cluster=place["cluster"], pool=place["pool"], namespace=place["namespace"])
    url = reverse("api:storage-image-list", kwargs={"pool": place["pool"]})
    assert api_client_as(place["actor"]).get(url, {"namespace": place["namespace"]}).status_code == 200
    # Sent: sharing starts now, not after the few seconds a response that is never closed is given.
    sharing = [thread for thread in threading.enumerate() if thread.name == "image-list-publish"]
    for thread in sharing:
        thread.join(timeout=image_cache._HELD_AT_MOST / 2)
    assert not any(thread.is_alive() for thread in sharing)
    # Shared: another process answers from the rows read for that request, without the resize made since.
    ceph_admin.rbd("resize", "--size", "3G", f"{spec}/shared")
    image_cache.forget()
    assert listed(place)["shared"][0] == 1 * GiB


def test_the_cache_shows_no_place_the_user_may_not_see(ceph_cluster, admin_user, storage_pool, ceph_admin):
    a, b, members, _ = two_tenants()
    for tenant, namespace in ((a, "team-a"), (b, "team-b")):
        namespace_create(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, name=f"{namespace}-{tenant.pk}")
        StorageBinding.objects.create(
            tenant=tenant, cluster=ceph_cluster, pool=storage_pool, namespace=f"{namespace}-{tenant.pk}"
        )
    own, other = f"team-a-{a.pk}", f"team-b-{b.pk}"
    ceph_admin.create_image(f"{storage_pool}/{own}/mine", "64M")
    ceph_admin.create_image(f"{storage_pool}/{other}/theirs", "64M")
    # A platform admin's lists fill the cache for the other tenant's namespace and the pool's default one.
    admin = api_client_as(admin_user)
    url = reverse("api:storage-image-list", kwargs={"pool": storage_pool})
    for namespace in (other, ""):
        assert admin.get(url, {"namespace": namespace}).status_code == 200
    image_cache.wait_for_revalidation()

    viewer = api_client_as(members["viewer"])
    mine = viewer.get(url, {"namespace": own})
    assert [row["name"] for row in json.loads(mine.content)["results"]] == ["mine"]
    for namespace in (other, ""):
        refused = viewer.get(url, {"namespace": namespace})
        assert refused.status_code == 404 and refused.json()["code"] == "tenant_denied"
        assert b"theirs" not in refused.content
    # The same through the page, from the shared rows as a fresh process reads them.
    image_cache.forget()
    page = Client()
    page.force_login(members["viewer"])
    other_page = page.get(reverse("storage:image-list", args=[storage_pool]), {"namespace": other})
    assert other_page.status_code == 404 and b"theirs" not in other_page.content
    for namespace in (own, other):
        ceph_admin.rbd("rm", f"{storage_pool}/{namespace}/{'mine' if namespace == own else 'theirs'}")
