"""Periodic jobs: the scheduler starts each due run once (even with two schedulers), the workers run
them, the usage samples feed the 30-day trends and the tenant pages' used bytes, and platform admins
see the schedules."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.tasks.models import BackgroundTask, ScheduledJob
from dashboard.tasks.scheduler import periodic_jobs, scheduler_tick
from dashboard.templatetags.berth import binary_size
from dashboard.tenancy.models import Membership, Tenant
from storage.models import StorageBinding, UsageSample
from storage.services import images
from tests.helpers import wait_for_task

pytestmark = pytest.mark.integration


@pytest.mark.django_db
def test_each_due_run_is_started_once_even_by_two_schedulers():
    now = timezone.now()
    first = scheduler_tick(now=now)
    assert {task.name for task in first} == set(periodic_jobs())
    # A second scheduler looking at the same moment finds every run already claimed.
    assert scheduler_tick(now=now) == []
    # Not due again before its interval has passed...
    reap = periodic_jobs()["tasks.reap_stale"]
    assert scheduler_tick(now=now + reap.every - timedelta(seconds=1)) == []
    # ...and then only the jobs that often are; the previous runs, still queued, are joined rather than doubled.
    again = scheduler_tick(now=now + reap.every)
    assert sorted(task.name for task in again) == sorted(
        name for name, job in periodic_jobs().items() if job.every <= reap.every
    )
    assert "tasks.reap_stale" in {task.name for task in again}
    assert {task.pk for task in again} <= {task.pk for task in first}
    row = ScheduledJob.objects.get(name="tasks.reap_stale")
    assert (row.last_run, row.next_run) == (now + reap.every, now + 2 * reap.every)


@pytest.mark.django_db(transaction=True)
def test_usage_samples_feed_the_trends_on_the_overview_and_tenant_pages(
    ceph_cluster, storage_pool, ceph_admin, admin_user, client, django_user_model
):
    ceph_admin.wait_for_pool_in_df(storage_pool)
    tenant = Tenant.objects.create(name="Trends", slug="trends")
    StorageBinding.objects.create(tenant=tenant, cluster=ceph_cluster, pool=storage_pool, namespace="")
    viewer = django_user_model.objects.create_user("trend-viewer")
    Membership.objects.create(user=viewer, tenant=tenant, role=Membership.VIEWER)
    created: list[str] = []
    used: list[int] = []

    def du(spec: str) -> int:
        return sum(row["used_size"] for row in json.loads(ceph_admin.rbd("du", "--format", "json", spec))["images"])

    for size in ("64MiB", "192MiB"):
        images.image_create(
            actor=admin_user, cluster=ceph_cluster, pool=storage_pool, namespace="", name=f"img-{size}", size=size
        )
        created.append(f"{storage_pool}/img-{size}")
        ceph_admin.rbd("bench", "--io-type", "write", "--io-total", "4M", created[-1])
        used.append(sum(du(spec) for spec in created))
        task = scheduler_tick(now=timezone.now() + timedelta(days=1 if size == "192MiB" else 0))
        sample = next(started for started in task if started.name == "storage.usage.sample")
        assert wait_for_task(sample).status == BackgroundTask.SUCCEEDED

    samples = UsageSample.objects.filter(tenant=tenant)
    assert list(samples.values_list("provisioned_bytes", "used_bytes")) == [(64 << 20, used[0]), (256 << 20, used[1])]
    assert used[0] > 0
    assert UsageSample.objects.filter(cluster=ceph_cluster, pool=storage_pool, tenant=None).count() == 2

    client.force_login(admin_user)
    overview = client.get(reverse("overview")).content.decode()
    assert f'aria-label="Stored in pool {storage_pool}: ' in overview
    client.force_login(viewer)
    tenant_page = client.get(reverse("tenant-detail", args=["trends"])).content.decode()
    assert 'aria-label="Provisioned by tenant trends: 64 MiB then 256 MiB"' in tenant_page
    # Used bytes are the last sample's, shown with its age.
    assert f"{binary_size(used[1])} used" in tenant_page and 'data-testid="used-measured-at"' in tenant_page
    assert "Stored in pool" not in client.get(reverse("overview")).content.decode()


@pytest.mark.django_db
def test_only_platform_admins_see_the_schedules(admin_client, client, django_user_model):
    scheduler_tick()
    page = admin_client.get(reverse("schedule-list"))
    assert page.status_code == 200
    for name in periodic_jobs():
        assert name in page.content.decode()
    client.force_login(django_user_model.objects.create_user("someone"))
    assert client.get(reverse("schedule-list")).status_code == 403
