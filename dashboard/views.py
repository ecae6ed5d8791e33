from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.core.errors import BerthError
from dashboard.tenancy.services import is_platform_admin
from storage.selectors import ceph_cluster_get
from storage.services import usage_history
from storage.services.cluster import cluster_overview


@login_required
@require_GET
def overview(request):
    # The page itself never waits for Ceph: the health panel loads (and refreshes) through htmx,
    # so a dead cluster shows a message in the panel instead of a hanging page. The trends come
    # from Berth's own samples, not from Ceph.
    trends = {}
    if is_platform_admin(request.user):
        try:
            cluster = ceph_cluster_get(actor=request.user, name=request.GET.get("cluster"))
            trends = usage_history.pool_trends(actor=request.user, cluster=cluster)
        except BerthError:
            pass  # no cluster registered yet: the health panel says so
    return render(request, "dashboard/overview.html", {"pool_trends": trends})


@login_required
@require_GET
def overview_health(request):
    try:
        cluster = ceph_cluster_get(actor=request.user, name=request.GET.get("cluster"))
        summary = cluster_overview(actor=request.user, cluster=cluster)
    except BerthError as error:
        return render(request, "dashboard/_overview_health.html", {"error": error})
    return render(request, "dashboard/_overview_health.html", {"overview": summary})
