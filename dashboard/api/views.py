from drf_spectacular.utils import OpenApiParameter, extend_schema
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
