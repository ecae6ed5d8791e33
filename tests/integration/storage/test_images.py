import json

import pytest

from dashboard.audit.models import AuditEvent
from dashboard.core.errors import Conflict, InvalidInput, NotFound
from dashboard.tasks.models import BackgroundTask
from storage.services import image_cache
from storage.services.images import (
    image_copy,
    image_create,
    image_delete,
    image_get,
    image_list,
    image_rename,
    image_resize,
)
from storage.services.namespaces import namespace_create, namespace_delete, namespace_list
from storage.services.snapshots import (
    image_clone,
    image_flatten,
    snapshot_create,
    snapshot_delete,
    snapshot_list,
    snapshot_protect,
    snapshot_rollback,
    snapshot_unprotect,
)
from storage.services.trash import trash_list, trash_purge, trash_restore
from storage.validation import GiB, KiB, MiB
from tests.helpers import unique_name, wait_for_task

# Background tasks start after their transaction commits and run in worker threads with their own
# database connections, so these tests cannot run inside one rolled-back transaction.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def image(ceph_cluster, admin_user, storage_pool):
    name = unique_name("img")
    image_create(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="", name=name, size="1GiB")
    return name


def test_create_reads_back_what_was_asked(ceph_cluster, ceph_admin, admin_user, storage_pool):
    name = unique_name("img")
    info = image_create(
        actor=admin_user,
        cluster=ceph_cluster,
        pool=storage_pool,
        namespace="",
        name=name,
        size="2GiB",
        object_size=8 * MiB,
        features="minimal",
    )
    assert (info.size, info.object_size, info.features, info.parent) == (2 * GiB, 8 * MiB, ["layering"], None)
    assert json.loads(ceph_admin.rbd("info", f"{storage_pool}/{name}", "--format", "json"))["size"] == 2 * GiB


def test_image_smaller_than_an_object_is_explained(ceph_cluster, ceph_admin, admin_user, storage_pool):
    name = unique_name("tiny")
    with pytest.raises(InvalidInput) as below:
        image_create(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="", name=name, size=KiB)
    assert below.value.message == (
        "Image size must be at least one object (4 MiB with the default object size); "
        "you asked for 1 KiB. Object sizes are powers of two from 4 KiB to 32 MiB."
    )
    # librbd's own EDOM (ArgumentOutOfRange) for order 10 gets the same explanation.
    with pytest.raises(InvalidInput) as edom:
        image_create(
            actor=admin_user,
            cluster=ceph_cluster,
            pool=storage_pool,
            namespace="",
            name=name,
            size=KiB,
            object_size=KiB,
        )
    assert edom.value.code == "image_size_out_of_range"
    assert edom.value.__cause__.__class__.__name__ == "ArgumentOutOfRange"
    assert "at least one object" in edom.value.message
    assert name not in ceph_admin.rbd("ls", storage_pool).split()


def test_duplicate_and_missing_images(ceph_cluster, admin_user, storage_pool, image):
    with pytest.raises(Conflict) as exists:
        image_create(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="", name=image, size="1GiB")
    assert exists.value.code == "image_exists"
    with pytest.raises(NotFound) as missing:
        image_get(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="", name="no-such-image")
    assert missing.value.code == "image_not_found"
    with pytest.raises(NotFound) as no_pool:
        image_list(actor=admin_user, cluster=ceph_cluster, pool="no-such-pool")
    assert no_pool.value.code == "pool_not_found"
    with pytest.raises(NotFound) as no_namespace:
        image_list(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="no-such-namespace")
    assert no_namespace.value.code == "namespace_not_found"


def test_list_sorts_pages_and_searches_across_the_pool(ceph_cluster, ceph_admin, admin_user, storage_pool):
    namespace = unique_name("ns")
    namespace_create(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, name=namespace)
    assert namespace in namespace_list(actor=admin_user, cluster=ceph_cluster, pool=storage_pool)
    sizes = {"c-img": 3, "a-img": 5, "b-img": 1, "d-other": 4}
    for name, gib in sizes.items():
        image_create(
            actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace=namespace, name=name, size=gib * GiB
        )

    by_size = image_list(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace=namespace, sort="size")
    assert [item.name for item in by_size.items] == ["b-img", "c-img", "d-other", "a-img"]
    biggest = image_list(
        actor=admin_user,
        cluster=ceph_cluster,
        pool=storage_pool,
        namespace=namespace,
        sort="size",
        descending=True,
        limit=1,
    )
    assert (biggest.total, [item.name for item in biggest.items]) == (4, ["a-img"])
    second_page = image_list(
        actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace=namespace, sort="name", offset=2, limit=2
    )
    assert [item.name for item in second_page.items] == ["c-img", "d-other"]
    searched = image_list(
        actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace=namespace, search="IMG", sort="created"
    )
    assert sorted(item.name for item in searched.items) == ["a-img", "b-img", "c-img"]
    assert all(item.created is not None for item in searched.items)

    # Images added and removed outside Berth show on the next list (the directory's version moved); a size
    # changed outside shows once the cached rows are re-read (test_image_list_cache.py covers when).
    ceph_admin.rbd("resize", "--size", "10G", f"{storage_pool}/{namespace}/b-img")
    ceph_admin.rbd("rm", f"{storage_pool}/{namespace}/c-img")
    ceph_admin.create_image(f"{storage_pool}/{namespace}/e-cli", "2G")
    after = image_list(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace=namespace, sort="name")
    assert [item.name for item in after.items] == ["a-img", "b-img", "d-other", "e-cli"]
    image_cache.revalidate(cluster=ceph_cluster, pool=storage_pool, namespace=namespace)
    after = image_list(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace=namespace, sort="size")
    assert [(item.name, item.size) for item in after.items] == [
        ("e-cli", 2 * GiB),
        ("d-other", 4 * GiB),
        ("a-img", 5 * GiB),
        ("b-img", 10 * GiB),
    ]

    for name in ("a-img", "b-img", "d-other", "e-cli"):
        ceph_admin.rbd("rm", f"{storage_pool}/{namespace}/{name}")
    namespace_delete(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, name=namespace)


def test_resize_grows_and_shrinks_only_when_confirmed(ceph_cluster, admin_user, storage_pool, image):
    grown = image_resize(
        actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="", name=image, size="2GiB"
    )
    assert grown.size == 2 * GiB
    with pytest.raises(InvalidInput) as unconfirmed:
        image_resize(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="", name=image, size="1GiB")
    assert unconfirmed.value.code == "shrink_not_confirmed"
    assert "from 2 GiB to 1 GiB" in unconfirmed.value.message
    assert (
        image_get(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="", name=image).size == 2 * GiB
    )
    shrunk = image_resize(
        actor=admin_user,
        cluster=ceph_cluster,
        pool=storage_pool,
        namespace="",
        name=image,
        size="512MiB",
        allow_shrink=True,
    )
    assert shrunk.size == 512 * MiB


def test_rename_and_copy(ceph_cluster, ceph_admin, admin_user, storage_pool, image):
    renamed = unique_name("renamed")
    assert (
        image_rename(
            actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="", name=image, new_name=renamed
        ).name
        == renamed
    )
    copy = unique_name("copy")
    task = image_copy(
        actor=admin_user,
        cluster=ceph_cluster,
        pool=storage_pool,
        namespace="",
        name=renamed,
        dest_pool=storage_pool,
        dest_namespace="",
        dest_name=copy,
    )
    finished = wait_for_task(task)
    assert (finished.status, finished.progress) == (BackgroundTask.SUCCEEDED, 100), finished.message
    assert image_get(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="", name=copy).size == GiB
    phases = list(
        AuditEvent.objects.filter(action="storage.image.copy", source="task").values_list(
            "parameters__phase", flat=True
        )
    )
    assert sorted(phases) == ["finished", "started"]
    with pytest.raises(Conflict):
        image_copy(
            actor=admin_user,
            cluster=ceph_cluster,
            pool=storage_pool,
            namespace="",
            name=renamed,
            dest_pool=storage_pool,
            dest_namespace="",
            dest_name=copy,
        )


def test_trash_restore_and_purge(ceph_cluster, ceph_admin, admin_user, storage_pool, image):
    assert image_delete(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="", name=image) is None
    assert image not in ceph_admin.rbd("ls", storage_pool).split()
    entry = next(
        entry for entry in trash_list(actor=admin_user, cluster=ceph_cluster, pool=storage_pool) if entry.name == image
    )
    restored = trash_restore(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="", image_id=entry.id)
    assert (restored.name, restored.size) == (image, GiB)

    image_delete(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="", name=image)
    entry = next(
        entry for entry in trash_list(actor=admin_user, cluster=ceph_cluster, pool=storage_pool) if entry.name == image
    )
    finished = wait_for_task(trash_purge(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, image_id=entry.id))
    assert finished.status == BackgroundTask.SUCCEEDED, finished.message
    assert entry.id not in {e.id for e in trash_list(actor=admin_user, cluster=ceph_cluster, pool=storage_pool)}
    with pytest.raises(NotFound) as gone:
        trash_restore(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="", image_id=entry.id)
    assert gone.value.code == "trash_entry_not_found"


def test_immediate_delete_needs_the_name_and_runs_in_the_background(
    ceph_cluster, ceph_admin, admin_user, storage_pool, image
):
    with pytest.raises(InvalidInput):
        image_delete(
            actor=admin_user,
            cluster=ceph_cluster,
            pool=storage_pool,
            namespace="",
            name=image,
            to_trash=False,
            confirm_name="wrong",
        )
    snapshot_create(
        actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="", image=image, snapshot="keep"
    )
    with pytest.raises(Conflict) as has_snapshots:
        image_delete(
            actor=admin_user,
            cluster=ceph_cluster,
            pool=storage_pool,
            namespace="",
            name=image,
            to_trash=False,
            confirm_name=image,
        )
    assert has_snapshots.value.code == "image_has_snapshots"
    snapshot_delete(
        actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="", image=image, snapshot="keep"
    )
    task = image_delete(
        actor=admin_user,
        cluster=ceph_cluster,
        pool=storage_pool,
        namespace="",
        name=image,
        to_trash=False,
        confirm_name=image,
    )
    assert wait_for_task(task).status == BackgroundTask.SUCCEEDED
    assert image not in ceph_admin.rbd("ls", storage_pool).split()
    assert image not in ceph_admin.rbd("trash", "ls", storage_pool)


def test_snapshot_protect_clone_flatten_chain(ceph_cluster, ceph_admin, admin_user, storage_pool, image):
    target_namespace = unique_name("ns")
    namespace_create(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, name=target_namespace)
    common = {"actor": admin_user, "cluster": ceph_cluster, "pool": storage_pool, "namespace": "", "image": image}
    snapshot_create(**common, snapshot="base")
    with pytest.raises(InvalidInput) as unprotected:
        image_clone(
            **common, snapshot="base", dest_pool=storage_pool, dest_namespace=target_namespace, dest_name="child"
        )
    assert unprotected.value.code == "snapshot_not_protected"
    snapshot_protect(**common, snapshot="base")

    child = image_clone(
        **common, snapshot="base", dest_pool=storage_pool, dest_namespace=target_namespace, dest_name="child"
    )
    assert child.parent == f"{storage_pool}/{image}@base"
    listed = image_list(actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace=target_namespace)
    assert [(item.name, item.parent) for item in listed.items] == [("child", f"{storage_pool}/{image}@base")]
    [snapshot] = snapshot_list(**common)
    assert (snapshot.name, snapshot.protected, snapshot.children) == ("base", True, 1)

    finished = wait_for_task(
        image_flatten(
            actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace=target_namespace, name="child"
        )
    )
    assert (finished.status, finished.progress) == (BackgroundTask.SUCCEEDED, 100), finished.message
    assert (
        image_get(
            actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace=target_namespace, name="child"
        ).parent
        is None
    )
    assert snapshot_list(**common)[0].children == 0
    snapshot_unprotect(**common, snapshot="base")
    snapshot_rollback(**common, snapshot="base")
    snapshot_delete(**common, snapshot="base")
    assert snapshot_list(**common) == []
    ceph_admin.rbd("rm", f"{storage_pool}/{target_namespace}/child")
