"""Snapshot schedules on the real cluster: due runs take snapshots named by schedule and UTC time and
prune only the schedule's own older ones (never hand-made ones, never protected ones with clones, and
the run says why); a run at the snapshot quota stops and says so on the schedule, in the task result
and in the audit log; operators of the tenant manage schedules, viewers only read them."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from dashboard.audit.models import AuditEvent
from dashboard.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from dashboard.tasks.models import BackgroundTask
from dashboard.tasks.scheduler import scheduler_tick
from dashboard.tenancy.models import Membership, Tenant
from storage.models import SnapshotSchedule, StorageBinding, StorageQuota
from storage.services.images import image_create
from storage.services.snapshot_schedules import (
    snapshot_schedule_create,
    snapshot_schedule_delete,
    snapshot_schedule_list,
    snapshot_schedules_run,
)
from storage.services.snapshots import image_clone, snapshot_create, snapshot_list, snapshot_protect
from tests.helpers import api_client_as, unique_name, wait_for_task

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def place(ceph_cluster, ceph_admin, storage_pool, django_user_model):
    namespace = unique_name("sched")
    ceph_admin.create_namespace(f"{storage_pool}/{namespace}")
    tenant = Tenant.objects.create(name=namespace, slug=namespace)
    StorageBinding.objects.create(tenant=tenant, cluster=ceph_cluster, pool=storage_pool, namespace=namespace)
    users = {}
    for role in (Membership.VIEWER, Membership.OPERATOR):
        users[role] = django_user_model.objects.create_user(f"{role}-{namespace}")
        Membership.objects.create(user=users[role], tenant=tenant, role=role)
    return {"cluster": ceph_cluster, "pool": storage_pool, "namespace": namespace, "tenant": tenant, **users}


def where(place) -> dict:
    return {key: place[key] for key in ("cluster", "pool", "namespace")}


def snapshot_names(actor, place, image: str) -> list[str]:
    return sorted(snap.name for snap in snapshot_list(actor=actor, **where(place), image=image))


def run_at(moment: datetime) -> dict:
    return snapshot_schedules_run(now=moment)


def test_runs_take_named_snapshots_and_prune_only_their_own(admin_user, place):
    operator = place[Membership.OPERATOR]
    image_create(actor=admin_user, **where(place), name="db", size="64MiB")
    snapshot_create(actor=operator, **where(place), image="db", snapshot="by-hand")
    schedule = snapshot_schedule_create(actor=operator, **where(place), image="db", frequency="hourly", keep=2)
    SnapshotSchedule.objects.filter(pk=schedule.pk).update(next_run=T0)

    assert run_at(T0 - timedelta(minutes=1)) == {}  # not due yet
    for hour in range(4):
        result = run_at(T0 + timedelta(hours=hour, minutes=1))
        assert result[str(schedule.pk)]["outcome"] == "ok", result
    # Each run is taken once: running again at the same moment finds nothing due.
    assert run_at(T0 + timedelta(hours=3, minutes=1)) == {}

    prefix = f"sched{schedule.pk}-hourly-"
    newest = [f"{prefix}20300101T140100Z", f"{prefix}20300101T150100Z"]
    assert snapshot_names(admin_user, place, "db") == ["by-hand", *newest]
    schedule.refresh_from_db()
    assert (schedule.last_outcome, schedule.next_run) == ("ok", T0 + timedelta(hours=4))
    assert schedule.last_message == "Took 1 snapshot(s), pruned 1."
    runs = AuditEvent.objects.filter(action="storage.snapshot_schedule.run", target__schedule_id=schedule.pk)
    assert runs.count() == 4
    assert {(event.outcome, event.tenant_slug) for event in runs} == {("success", place["tenant"].slug)}


def test_a_protected_snapshot_with_clones_is_kept_and_the_run_says_why(admin_user, place):
    image_create(actor=admin_user, **where(place), name="golden", size="64MiB")
    schedule = snapshot_schedule_create(actor=admin_user, **where(place), image="golden", frequency="daily", keep=1)
    SnapshotSchedule.objects.filter(pk=schedule.pk).update(next_run=T0)
    run_at(T0)
    [first] = snapshot_names(admin_user, place, "golden")
    snapshot_protect(actor=admin_user, **where(place), image="golden", snapshot=first)
    image_clone(
        actor=admin_user,
        **where(place),
        image="golden",
        snapshot=first,
        dest_pool=place["pool"],
        dest_namespace=place["namespace"],
        dest_name="child",
    )

    result = run_at(T0 + timedelta(days=1))[str(schedule.pk)]
    assert result["pruned"] == []
    [why] = result["kept"]
    assert why.startswith(f"{place['pool']}/{place['namespace']}/golden@{first}: protected, with 1 clone(s)")
    assert first in snapshot_names(admin_user, place, "golden")
    schedule.refresh_from_db()
    assert schedule.last_outcome == "ok" and "Not pruned" in schedule.last_message


def test_at_the_snapshot_quota_a_run_stops_and_says_so(admin_user, place, client):
    for name in ("a", "b"):
        image_create(actor=admin_user, **where(place), name=name, size="64MiB")
    StorageQuota.objects.create(tenant=place["tenant"], max_snapshots=1)
    schedule = snapshot_schedule_create(actor=place[Membership.OPERATOR], **where(place), frequency="daily", keep=3)

    started = scheduler_tick(now=datetime.now(UTC))
    task = wait_for_task(next(task for task in started if task.name == "storage.snapshot_schedules.run"))
    assert task.status == BackgroundTask.SUCCEEDED, task.message
    result = task.result["schedules"][str(schedule.pk)]
    assert result["outcome"] == "stopped_at_quota"
    assert len(result["taken"]) == 1 and result["taken"][0].startswith(f"{place['pool']}/{place['namespace']}/a@")
    assert result["stopped"].startswith(f"Stopped at the snapshot quota before {place['pool']}/{place['namespace']}/b")
    assert snapshot_names(admin_user, place, "b") == []

    schedule.refresh_from_db()
    assert schedule.last_outcome == "stopped_at_quota" and "snapshots quota" in schedule.last_message
    event = AuditEvent.objects.get(action="storage.snapshot_schedule.run", target__schedule_id=schedule.pk)
    assert (event.outcome, event.tenant_slug) == ("failed", place["tenant"].slug)
    assert event.error == schedule.last_message

    client.force_login(place[Membership.VIEWER])
    page = client.get(
        reverse("storage:snapshot-schedule-list", args=[place["pool"]]) + f"?namespace={place['namespace']}"
    )
    assert "Stopped at the snapshot quota" in page.content.decode()


def test_operators_manage_schedules_viewers_read_them_and_strangers_see_nothing(admin_user, place, django_user_model):
    image_create(actor=admin_user, **where(place), name="web", size="64MiB")
    viewer, operator = place[Membership.VIEWER], place[Membership.OPERATOR]
    with pytest.raises(PermissionDenied):
        snapshot_schedule_create(actor=viewer, **where(place), image="web", frequency="hourly", keep=24)
    schedule = snapshot_schedule_create(actor=operator, **where(place), image="web", frequency="hourly", keep=24)
    with pytest.raises(Conflict) as twice:
        snapshot_schedule_create(actor=operator, **where(place), image="web", frequency="hourly", keep=5)
    assert twice.value.code == "snapshot_schedule_exists"
    for bad in ({"frequency": "monthly", "keep": 3}, {"frequency": "daily", "keep": 0}):
        with pytest.raises(InvalidInput):
            snapshot_schedule_create(actor=operator, **where(place), image="web", **bad)
    assert [found.pk for found in snapshot_schedule_list(actor=viewer, **where(place))] == [schedule.pk]

    stranger = django_user_model.objects.create_user("stranger")
    with pytest.raises(NotFound):
        snapshot_schedule_list(actor=stranger, **where(place))
    with pytest.raises(PermissionDenied):
        snapshot_schedule_delete(actor=viewer, **where(place), schedule_id=schedule.pk)
    snapshot_schedule_delete(actor=operator, **where(place), schedule_id=schedule.pk)
    assert snapshot_schedule_list(actor=viewer, **where(place)) == []


def test_api_and_pages_create_list_and_delete_schedules(admin_user, place, client):
    image_create(actor=admin_user, **where(place), name="api", size="64MiB")
    operator = place[Membership.OPERATOR]
    api = api_client_as(operator)
    query = f"?namespace={place['namespace']}"
    listing = reverse("api:storage-snapshot-schedule-list", args=[place["pool"]]) + query
    created = api.post(listing, {"image": "api", "frequency": "daily", "keep": 7}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["image"], body["frequency"], body["keep"], body["last_outcome"]) == ("api", "daily", 7, "")
    assert [item["id"] for item in api.get(listing).json()] == [body["id"]]
    # Addressed in the pool's default namespace, the schedule is not there.
    elsewhere = reverse("api:storage-snapshot-schedule-detail", args=[place["pool"], body["id"]])
    assert api_client_as(admin_user).get(elsewhere).status_code == 404
    assert api.delete(elsewhere.replace("?", "") + query).status_code == 204

    client.force_login(operator)
    pages = reverse("storage:snapshot-schedule-list", args=[place["pool"]]) + query
    form = reverse("storage:snapshot-schedule-create", args=[place["pool"]]) + query
    assert client.post(form, {"image": "", "frequency": "weekly", "keep": "4"}).status_code == 302
    page = client.get(pages).content.decode()
    assert "every image" in page and "Weekly" in page
    [schedule] = SnapshotSchedule.objects.filter(namespace=place["namespace"])
    delete = reverse("storage:snapshot-schedule-delete", args=[place["pool"], schedule.pk]) + query
    assert client.post(delete).status_code == 302
    assert not SnapshotSchedule.objects.filter(namespace=place["namespace"]).exists()
