from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboard.api.serializers import ClusterOverviewSerializer, ErrorSerializer
from storage.selectors import ceph_cluster_get
from storage.services.cluster import cluster_overview


class OverviewApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("cluster", str, description="Cluster name; the default cluster if omitted")],
        responses={200: ClusterOverviewSerializer, 404: ErrorSerializer, 503: ErrorSerializer},
    )
    def get(self, request):
        cluster = ceph_cluster_get(actor=request.user, name=request.query_params.get("cluster"))
        summary = cluster_overview(actor=request.user, cluster=cluster)
        return Response(ClusterOverviewSerializer(summary).data)


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI, served from Berth's own static files.

    Swagger UI sets inline styles on its elements, so this one page allows inline styles (not
    scripts: the split view already serves its start-up script as a file)."""

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        response["Content-Security-Policy"] = settings.BERTH_CONTENT_SECURITY_POLICY.replace(
            "style-src 'self'", "style-src 'self' 'unsafe-inline'")
        return response
