"""The trash lifecycle on the real cluster: an image moved to the trash with a protection period shows
"protected until"; a purge removes only expired entries unless forced (a tenant admin typing the name);
restoring is unchanged; the scheduled purge removes expired entries on clusters that have it on, one
audit event per cluster; and a trashed image still counts against the quota."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from dashboard.audit.models import AuditEvent
from dashboard.core.errors import Conflict, InvalidInput, PermissionDenied
from dashboard.tasks.models import BackgroundTask
from dashboard.tasks.scheduler import scheduler_tick
from dashboard.tenancy.models import Membership, Tenant
from storage.models import CephCluster, StorageBinding
from storage.services.images import image_create, image_delete
from storage.services.tenancy import tenant_storage_usage
from storage.services.trash import trash_auto_purge_set, trash_list, trash_purge, trash_restore
from tests.helpers import api_client_as, unique_name, wait_for_task

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def place(ceph_cluster, ceph_admin, storage_pool):
    """An RBD namespace of the module's pool of its own, owned by a tenant with an admin and an operator."""
    namespace = unique_name("trash")
    ceph_admin.create_namespace(f"{storage_pool}/{namespace}")
    tenant = Tenant.objects.create(name=namespace, slug=namespace)
    StorageBinding.objects.create(tenant=tenant, cluster=ceph_cluster, pool=storage_pool, namespace=namespace)
    return {"cluster": ceph_cluster, "pool": storage_pool, "namespace": namespace, "tenant": tenant}


def member(django_user_model, tenant: Tenant, role: str):
    user = django_user_model.objects.create_user(f"{role}-{tenant.slug}")
    Membership.objects.create(user=user, tenant=tenant, role=role)
    return user


def where(place) -> dict:
    return {key: place[key] for key in ("cluster", "pool", "namespace")}


def trashed(actor, place, name: str, protect_days: int):
    image_create(actor=actor, **where(place), name=name, size="64MiB")
    image_delete(actor=actor, **where(place), name=name, protect_days=protect_days)
    [entry] = [entry for entry in trash_list(actor=actor, **where(place)) if entry.name == name]
    return entry


def names_in_trash(actor, place) -> set[str]:
    return {entry.name for entry in trash_list(actor=actor, **where(place))}


def test_protected_entries_survive_a_purge_unless_forced_by_an_admin_who_types_the_name(
    admin_user, place, django_user_model
):
    admin = member(django_user_model, place["tenant"], Membership.ADMIN)
    operator = member(django_user_model, place["tenant"], Membership.OPERATOR)
    kept = trashed(admin, place, "kept", protect_days=7)
    expired = trashed(admin, place, "expired", protect_days=0)

    assert kept.protected and not expired.protected
    assert kept.deferment_end - kept.deleted_at == timedelta(days=7)
    # A trashed image still counts: protection only delays purging it.
    assert tenant_storage_usage(place["tenant"]).images == 2

    with pytest.raises(Conflict) as refused:
        trash_purge(actor=admin, **where(place), image_id=kept.id)
    assert refused.value.code == "trash_entry_protected"
    assert "protected until" in refused.value.message and "force" in refused.value.message

    task = wait_for_task(trash_purge(actor=admin, **where(place)))
    assert task.status == BackgroundTask.SUCCEEDED, task.message
    assert task.result == {"purged": 1, "kept_protected": ["kept"]}
    assert names_in_trash(admin, place) == {"kept"}

    with pytest.raises(PermissionDenied):
        trash_purge(actor=operator, **where(place), image_id=kept.id, force=True, confirm_name="kept")
    with pytest.raises(InvalidInput) as unconfirmed:
        trash_purge(actor=admin, **where(place), image_id=kept.id, force=True, confirm_name="kep")
    assert unconfirmed.value.code == "confirmation_mismatch"
    assert names_in_trash(admin, place) == {"kept"}

    forced = wait_for_task(trash_purge(actor=admin, **where(place), image_id=kept.id, force=True, confirm_name="kept"))
    assert forced.status == BackgroundTask.SUCCEEDED, forced.message
    assert names_in_trash(admin, place) == set()
    assert tenant_storage_usage(place["tenant"]).images == 0
    purges = AuditEvent.objects.filter(action="storage.image.trash_purge", target__namespace=place["namespace"])
    assert {(event.outcome, event.parameters.get("force")) for event in purges} >= {("success", True), ("denied", True)}


def test_a_protected_entry_is_restored_as_any_other(admin_user, place):
    entry = trashed(admin_user, place, "back", protect_days=30)
    restored = trash_restore(actor=admin_user, **where(place), image_id=entry.id)
    assert restored.name == "back"
    assert names_in_trash(admin_user, place) == set()


def test_protect_days_is_checked(admin_user, place):
    image_create(actor=admin_user, **where(place), name="odd", size="64MiB")
    for days in (-1, 3651, "soon"):
        with pytest.raises(InvalidInput) as refused:
            image_delete(actor=admin_user, **where(place), name="odd", protect_days=days)
        assert refused.value.code == "invalid_protect_days"
    assert "odd" not in names_in_trash(admin_user, place)


def test_the_scheduled_purge_removes_expired_entries_on_clusters_that_have_it_on(admin_user, place):
    old = trashed(admin_user, place, "old", protect_days=0)
    trashed(admin_user, place, "young", protect_days=2)

    def run_purge_job(now: datetime) -> BackgroundTask:
        started = scheduler_tick(now=now)
        return wait_for_task(next(task for task in started if task.name == "storage.trash.purge_expired"))

    first = run_purge_job(datetime.now(UTC))
    assert first.status == BackgroundTask.SUCCEEDED
    assert first.result == {"clusters": {}}  # off by default: nothing is looked at
    assert names_in_trash(admin_user, place) == {"old", "young"}

    CephCluster.objects.filter(pk=place["cluster"].pk).update(purge_expired_trash=True)
    second = run_purge_job(datetime.now(UTC) + timedelta(days=1))
    assert second.status == BackgroundTask.SUCCEEDED, second.message
    spec = f"{place['pool']}/{place['namespace']}/old"
    purged = second.result["clusters"][place["cluster"].name]["purged"]
    assert [line for line in purged if place["namespace"] in line] == [f"{spec} ({old.id})"]
    assert names_in_trash(admin_user, place) == {"young"}
    event = AuditEvent.objects.get(action="storage.trash.purge_expired")
    assert (event.outcome, event.source, event.target) == ("success", "task", {"cluster": place["cluster"].name})
    assert f"{spec} ({old.id})" in event.parameters["purged"]


def test_api_purge_refuses_a_protected_entry_until_forced_with_its_name(admin_user, place):
    entry = trashed(admin_user, place, "api-kept", protect_days=1)
    api = api_client_as(admin_user)
    url = reverse("api:storage-trash-entry", args=[place["pool"], entry.id]) + f"?namespace={place['namespace']}"
    listed = api.get(reverse("api:storage-trash-list", args=[place["pool"]]) + f"?namespace={place['namespace']}")
    [shown] = [item for item in listed.json() if item["id"] == entry.id]
    assert shown["protected"] is True and shown["deferment_end"]

    refused = api.delete(url, {}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "trash_entry_protected")
    mistyped = api.delete(url, {"force": True, "confirm_name": "api-kep"}, format="json")
    assert (mistyped.status_code, mistyped.json()["code"]) == (400, "confirmation_mismatch")
    accepted = api.delete(url, {"force": True, "confirm_name": "api-kept"}, format="json")
    assert accepted.status_code == 202
    assert wait_for_task(BackgroundTask.objects.get(pk=accepted.json()["id"])).status == BackgroundTask.SUCCEEDED
    assert names_in_trash(admin_user, place) == set()


def test_trash_page_shows_protection_and_forced_emptying_needs_the_pool_name(admin_user, client, place):
    trashed(admin_user, place, "page-kept", protect_days=3)
    client.force_login(admin_user)
    query = f"?namespace={place['namespace']}"
    page = client.get(reverse("storage:trash-list", args=[place["pool"]]) + query).content.decode()
    assert "protected</span>" in page
    assert "automatic purging is off for cluster" in page

    expired_only = client.post(reverse("storage:trash-purge", args=[place["pool"]]) + query)
    assert expired_only.status_code == 302
    wait_for_task(BackgroundTask.objects.filter(name="storage.image.trash_purge").latest("created"))
    assert names_in_trash(admin_user, place) == {"page-kept"}

    empty_url = reverse("storage:trash-purge-forced", args=[place["pool"]]) + query
    mistyped = client.post(empty_url, {"confirm_name": "nope"})
    assert mistyped.status_code == 400 and "type the name exactly" in mistyped.content.decode()
    assert client.post(empty_url, {"confirm_name": place["pool"]}).status_code == 302
    wait_for_task(BackgroundTask.objects.filter(name="storage.image.trash_purge").latest("created"))
    assert names_in_trash(admin_user, place) == set()


def test_a_platform_admin_turns_automatic_purging_on_from_the_trash_page(admin_user, client, place):
    trashed(admin_user, place, "auto-old", protect_days=0)
    client.force_login(admin_user)
    trash_url = reverse("storage:trash-list", args=[place["pool"]]) + f"?namespace={place['namespace']}"
    switch_url = reverse("storage:trash-auto-purge")
    assert switch_url in client.get(trash_url).content.decode()
    form = client.get(switch_url)
    assert form.status_code == 200 and "automatic purging is off" in form.content.decode()

    turned_on = client.post(f"{switch_url}?{urlencode({'next': trash_url})}", {"enabled": "on"}, follow=True)
    assert turned_on.redirect_chain == [(trash_url, 302)]
    assert "are purged automatically on cluster" in turned_on.content.decode()
    assert CephCluster.objects.get(pk=place["cluster"].pk).purge_expired_trash
    event = AuditEvent.objects.get(action="storage.trash.set_auto_purge")
    assert (event.outcome, event.parameters, event.actor_name) == ("success", {"enabled": True}, admin_user.username)
    started = scheduler_tick(now=datetime.now(UTC) + timedelta(days=1))
    wait_for_task(next(task for task in started if task.name == "storage.trash.purge_expired"))
    assert "auto-old" not in names_in_trash(admin_user, place)

    assert client.post(switch_url, {}).status_code == 302  # an unticked box: off again
    assert not CephCluster.objects.get(pk=place["cluster"].pk).purge_expired_trash


def test_tenant_admins_see_the_state_but_cannot_switch_automatic_purging(client, place, django_user_model):
    tenant_admin = member(django_user_model, place["tenant"], Membership.ADMIN)
    with pytest.raises(PermissionDenied):
        trash_auto_purge_set(actor=tenant_admin, cluster=place["cluster"], enabled=True)
    client.force_login(tenant_admin)
    trash_url = reverse("storage:trash-list", args=[place["pool"]]) + f"?namespace={place['namespace']}"
    page = client.get(trash_url).content.decode()
    switch_url = reverse("storage:trash-auto-purge")
    assert "automatic purging is off for cluster" in page and switch_url not in page

    assert client.get(switch_url).status_code == 403
    refused = client.post(switch_url, {"enabled": "on"})
    assert refused.status_code == 403 and "Only platform admins" in refused.content.decode()
    assert not CephCluster.objects.get(pk=place["cluster"].pk).purge_expired_trash
