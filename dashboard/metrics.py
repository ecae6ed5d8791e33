"""Berth's own Prometheus metrics, gathered when /metrics is scraped (see dashboard/health.py).

From the database: background tasks by state and the oldest queued one's wait, each cluster's last
successful contact by any Berth process, tenants' quotas. From the clusters, through
dashboard/probes.py so that a dead cluster cannot stall a scrape: whether each cluster answers, and
what tenants use (Ceph is the record of that, not Berth's database).

Usage and quota share their labels (tenant, dimension), so one rule covers every dimension:
`berth_tenant_usage / berth_tenant_quota > 0.8`. A dimension without a limit has no quota sample.
"""

import time
from collections.abc import Iterator
from concurrent.futures import wait
from functools import partial

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dashboard.probes import BUDGET, BackgroundReads, ClusterReads
from dashboard.tasks.models import BackgroundTask
from dashboard.tenancy.models import Tenant
from registry.models import RegistryQuota
from registry.services.secrets import pull_secret_count
from storage.models import StorageQuota
from storage.services.tenancy import gib_to_bytes, tenant_storage_usage

# Usage takes a read of every image header of a tenant; a minute old is recent enough for a graph.
_usage_reads = BackgroundReads(fresh_for=60)


class BerthCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        started = time.monotonic()
        clusters = ClusterReads()
        storage_tenants = {tenant.pk: tenant for tenant in Tenant.objects.filter(storage_bindings__isnull=False)}
        registry_quotas = list(RegistryQuota.objects.select_related("tenant", "kube_cluster"))
        namespaces = {
            (quota.tenant.slug, quota.kube_cluster.name, namespace): partial(
                pull_secret_count, cluster=quota.kube_cluster, namespace=namespace
            )
            for quota in registry_quotas
            for namespace in quota.namespace_list
        }
        storage_reads = {
            ("storage", pk): partial(tenant_storage_usage, tenant) for pk, tenant in storage_tenants.items()
        }
        pending = clusters.start() + _usage_reads.start(storage_reads) + _usage_reads.start(namespaces)
        # The database's share first, while the clusters answer.
        yield from _task_metrics()
        quota = _quota_metric(registry_quotas)
        wait(pending, timeout=max(0.0, BUDGET - (time.monotonic() - started)))

        yield from _cluster_metrics(clusters)
        usage = GaugeMetricFamily(
            "berth_tenant_usage",
            "What a tenant uses per quota dimension (images, provisioned_bytes, snapshots), as Ceph reports it "
            "plus the room held for copies still running; no sample while its clusters do not answer.",
            labels=["tenant", "dimension"],
        )
        for (_, pk), answer in _usage_reads.answers(storage_reads).items():
            if answer is not None and answer.error is None:
                slug = storage_tenants[pk].slug
                usage.add_metric([slug, "images"], answer.value.images)
                usage.add_metric([slug, "provisioned_bytes"], answer.value.provisioned_bytes)
                usage.add_metric([slug, "snapshots"], answer.value.snapshots)
        yield usage
        yield quota
        pull_secrets = GaugeMetricFamily(
            "berth_tenant_pull_secrets",
            "Pull secrets in each namespace of a tenant's registry quota (its limit: berth_tenant_quota"
            '{dimension="pull_secrets_per_namespace"}).',
            labels=["tenant", "cluster", "namespace"],
        )
        for key, answer in _usage_reads.answers(namespaces).items():
            if answer is not None and answer.error is None:
                pull_secrets.add_metric(list(key), answer.value)
        yield pull_secrets


def _task_metrics() -> Iterator[Metric]:
    by_state = GaugeMetricFamily("berth_tasks", "Background tasks by state.", labels=["state"])
    counts = dict(BackgroundTask.objects.order_by().values_list("status").annotate(Count("pk")))
    for state, _ in BackgroundTask.STATUSES:
        by_state.add_metric([state], counts.get(state, 0))
    yield by_state
    oldest = BackgroundTask.objects.filter(status=BackgroundTask.QUEUED).aggregate(oldest=Min("created"))["oldest"]
    yield GaugeMetricFamily(
        "berth_task_oldest_queued_age_seconds",
        "How long the oldest queued task has waited for a worker (0: none waits).",
        value=(timezone.now() - oldest).total_seconds() if oldest else 0,
    )


def _cluster_metrics(clusters: ClusterReads) -> Iterator[Metric]:
    up = GaugeMetricFamily(
        "berth_cluster_up",
        "1 if the cluster answered Berth's last call from this process with its credentials, 0 if not; "
        "no sample before the first answer.",
        labels=["kind", "cluster"],
    )
    contact = GaugeMetricFamily(
        "berth_cluster_last_contact_timestamp_seconds",
        "When a call of any Berth process to the cluster last succeeded (Unix time; no sample: never).",
        labels=["kind", "cluster"],
    )
    for result in clusters.results():
        if result.answer is not None:
            up.add_metric([result.kind, result.record.name], 1 if result.answer.error is None else 0)
        if result.record.last_contact is not None:
            contact.add_metric([result.kind, result.record.name], result.record.last_contact.timestamp())
    yield up
    yield contact


def _quota_metric(registry_quotas: list[RegistryQuota]) -> GaugeMetricFamily:
    quota = GaugeMetricFamily(
        "berth_tenant_quota",
        "A tenant's limit per dimension: images, provisioned_bytes, snapshots, image_bytes (per image) and "
        "pull_secrets_per_namespace; no sample: unlimited.",
        labels=["tenant", "dimension"],
    )
    for storage in StorageQuota.objects.select_related("tenant"):
        limits = {
            "images": storage.max_images,
            "provisioned_bytes": gib_to_bytes(storage.max_provisioned_gib),
            "snapshots": storage.max_snapshots,
            "image_bytes": gib_to_bytes(storage.max_image_gib),
        }
        for dimension, limit in limits.items():
            if limit is not None:
                quota.add_metric([storage.tenant.slug, dimension], limit)
    for registry in registry_quotas:
        if registry.max_pull_secrets_per_namespace is not None:
            quota.add_metric(
                [registry.tenant.slug, "pull_secrets_per_namespace"], registry.max_pull_secrets_per_namespace
            )
    return quota
