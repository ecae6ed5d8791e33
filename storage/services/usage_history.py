"""Storage use over time: the scheduler samples every pool (`ceph df`) and every tenant (the header
reads of their images for provisioned bytes, opening each image for used bytes) into UsageSample; the
pages draw the last 30 days from it, and the tenant pages show the last used figure (measuring every
image on each page view would take seconds for a tenant with thousands of images)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from dashboard.core.actors import Actor
from dashboard.core.errors import BerthError
from dashboard.tasks.scheduler import periodic
from dashboard.tasks.services import ProgressCallback
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Tenant
from storage.models import CephCluster, StorageBinding, UsageSample
from storage.services.connection import mon_command
from storage.services.tenancy import storage_places, tenant_storage_usage
from storage.services.usage import places_used

TREND_DAYS = 30


@dataclass(frozen=True)
class TrendPoint:
    time: datetime
    value: int


@periodic(
    "storage.usage.sample",
    every=lambda: timedelta(minutes=settings.BERTH_USAGE_SAMPLE_MINUTES),
    description="Record how much every pool stores and every tenant has provisioned and uses, for the trends",
    audit_runs=False,
)
def usage_sample_take(*, progress: ProgressCallback) -> dict[str, Any]:
    """A cluster that does not answer is skipped (its trend shows a gap), not a failed run."""
    now = timezone.now()
    clusters = list(CephCluster.objects.all())
    unreachable = []
    for done, cluster in enumerate(clusters):
        try:
            _sample_cluster(cluster, now)
        except BerthError as error:
            unreachable.append(f"{cluster.name}: {error.message}")
        progress(done + 1, len(clusters))
    UsageSample.objects.filter(time__lt=now - timedelta(days=TREND_DAYS)).delete()
    return {"clusters": len(clusters), "skipped": unreachable}


def _sample_cluster(cluster: CephCluster, now: datetime) -> None:
    df = mon_command(cluster, "df", detail="detail", format="json", what="reading pool usage")
    samples = [
        UsageSample(time=now, cluster=cluster, pool=pool["name"], stored_bytes=pool["stats"].get("stored", 0))
        for pool in df.get("pools", [])
    ]
    tenant_ids = StorageBinding.objects.filter(cluster=cluster).values_list("tenant", flat=True).distinct()
    for tenant in Tenant.objects.filter(pk__in=tenant_ids):
        usage = tenant_storage_usage(tenant)
        measured = places_used(
            cluster, [(pool, namespace) for place, pool, namespace in storage_places(tenant) if place == cluster]
        )
        samples.append(
            UsageSample(
                time=now,
                cluster=cluster,
                tenant=tenant,
                provisioned_bytes=usage.provisioned_bytes,
                images=usage.images,
                used_bytes=measured.used,
                unmeasured_images=measured.unknown,
            )
        )
    UsageSample.objects.bulk_create(samples)


def pool_trend(*, actor: Actor, cluster: CephCluster, pool: str) -> list[TrendPoint]:
    """Bytes stored in a pool over the last 30 days (platform admins: a pool may hold many tenants)."""
    tenancy.require_platform_admin(actor, "see pool trends")
    samples = UsageSample.objects.filter(cluster=cluster, pool=pool, time__gte=_window_start())
    return [TrendPoint(sample.time, sample.stored_bytes or 0) for sample in samples]


def tenant_trend(*, actor: Actor, tenant: Tenant) -> list[TrendPoint]:
    """Bytes a tenant has provisioned over the last 30 days, summed over its clusters at each sample."""
    tenancy.require_role(actor, tenant, tenancy.VIEWER)
    totals: dict[datetime, int] = {}
    for sample in UsageSample.objects.filter(tenant=tenant, time__gte=_window_start()):
        totals[sample.time] = totals.get(sample.time, 0) + (sample.provisioned_bytes or 0)
    return [TrendPoint(time, value) for time, value in sorted(totals.items())]


def _window_start() -> datetime:
    return timezone.now() - timedelta(days=TREND_DAYS)


def pool_trends(*, actor: Actor, cluster: CephCluster) -> dict[str, list[TrendPoint]]:
    """Every pool's trend on the cluster, by pool name (platform admins)."""
    tenancy.require_platform_admin(actor, "see pool trends")
    trends: dict[str, list[TrendPoint]] = {}
    for sample in UsageSample.objects.filter(cluster=cluster, tenant=None, time__gte=_window_start()):
        trends.setdefault(sample.pool, []).append(TrendPoint(sample.time, sample.stored_bytes or 0))
    return dict(sorted(trends.items()))
