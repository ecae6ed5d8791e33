"""The overview: a panel per Ceph cluster and per Kubernetes cluster, the user's tenants' usage against
their quotas, recent activity, and running and recently failed background tasks.

The page itself reads only Berth's own database; every panel loads on its own through htmx from its
own endpoint, so a cluster that does not answer holds up its own panel, never the page. A panel
answers 200 even when its cluster fails: htmx swaps in only successful answers, and the panel is
where the outage is reported.
"""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboard.activity import activity_events_visible_to
from dashboard.core.errors import BerthError
from dashboard.tasks.models import BackgroundTask
from dashboard.tasks.services import task_list
from dashboard.tenancy.models import Tenant
from dashboard.tenancy.services import deny_access, is_platform_admin, tenants_for
from registry import links as registry_links
from registry.selectors import kube_cluster_get
from registry.services.doctor import kube_cluster_status
from registry.services.wizard_support import cluster_names as kube_cluster_names
from storage.selectors import ceph_cluster_get, ceph_cluster_names
from storage.services import usage_history
from storage.services.cluster import cluster_overview
from storage.services.quotas import UsageRow, tenant_usage_rows

RECENT_ACTIVITY = 10
# Failed tasks stay on the overview this long; the task list in the API keeps them all.
RECENT_FAILURES = timedelta(days=1)
# Enough newest tasks to hold every running one: Berth's own periodic jobs add one an hour.
TASKS_LOOKED_AT = 200


@login_required
@require_GET
def overview(request):
    user = request.user
    # The trends come from Berth's own samples, not from Ceph.
    trends = {}
    if is_platform_admin(user):
        try:
            cluster = ceph_cluster_get(actor=user, name=request.GET.get("cluster"))
            trends = usage_history.pool_trends(actor=user, cluster=cluster)
        except BerthError:
            pass  # no cluster registered yet: the Ceph section says so
    context = {
        "platform_admin": is_platform_admin(user),
        "ceph_clusters": ceph_cluster_names(actor=user),
        "kube_clusters": kube_cluster_names(actor=user),
        # Platform admins see every tenant on the Tenants page; the usage panel is for members.
        "member_of_tenants": not is_platform_admin(user) and tenants_for(user).exists(),
        "pool_trends": trends,
    }
    return render(request, "dashboard/overview.html", context)


@login_required
@require_GET
def overview_health(request):
    """One Ceph cluster's health, capacity, pools, images and OSDs, read live."""
    try:
        cluster = ceph_cluster_get(actor=request.user, name=request.GET.get("cluster"))
        if cluster.name not in ceph_cluster_names(actor=request.user):
            raise deny_access(request.user, f"Ceph cluster {cluster.name}", {"cluster": cluster.name})
        summary = cluster_overview(actor=request.user, cluster=cluster)
    except BerthError as error:
        return render(request, "dashboard/_overview_health.html", {"error": error})
    return render(request, "dashboard/_overview_health.html", {"overview": summary})


@login_required
@require_GET
def overview_kube(request):
    """One Kubernetes cluster's version and the pods failing to pull, each namespace's linked to the pull doctor."""
    try:
        cluster = kube_cluster_get(actor=request.user, name=request.GET.get("cluster") or None)
        status = kube_cluster_status(actor=request.user, cluster=cluster)
    except BerthError as error:
        return render(request, "dashboard/_overview_kube.html", {"error": error})
    by_namespace: dict[str, list] = {}
    for failure in status.failing:
        by_namespace.setdefault(failure.namespace, []).append(failure)
    doctors = [
        (namespace, registry_links.registry_url("doctor", cluster=cluster.name, namespace=namespace), failures)
        for namespace, failures in by_namespace.items()
    ]
    doctor_url = registry_links.registry_url("doctor", cluster=cluster.name)
    return render(
        request, "dashboard/_overview_kube.html", {"status": status, "doctors": doctors, "doctor_url": doctor_url}
    )


@login_required
@require_GET
def overview_usage(request):
    """The user's tenants' storage against their quotas (read from Ceph, so a panel of its own)."""
    tenants = [] if is_platform_admin(request.user) else list(tenants_for(request.user).order_by("name"))
    usage: list[tuple[Tenant, list[UsageRow], BerthError | None]] = []
    for tenant in tenants:
        try:
            usage.append((tenant, tenant_usage_rows(actor=request.user, tenant=tenant), None))
        except BerthError as error:
            usage.append((tenant, [], error))
    return render(request, "dashboard/_overview_usage.html", {"usage": usage})


@login_required
@require_GET
def overview_activity(request):
    """The newest events of the Activity page, for those who may open it."""
    try:
        events = list(activity_events_visible_to(actor=request.user, filters={})[:RECENT_ACTIVITY])
    except BerthError as error:
        return render(request, "dashboard/_overview_activity.html", {"error": error})
    return render(request, "dashboard/_overview_activity.html", {"events": events})


@login_required
@require_GET
def overview_tasks(request):
    """Background tasks still queued or running, and those that failed lately."""
    tasks = task_list(actor=request.user, limit=TASKS_LOOKED_AT)
    since = timezone.now() - RECENT_FAILURES
    running = [task for task in tasks if not task.is_finished]
    failed = [
        task for task in tasks if task.status == BackgroundTask.FAILED and (task.finished or task.created) >= since
    ]
    return render(request, "dashboard/_overview_tasks.html", {"running": running, "failed": failed})
