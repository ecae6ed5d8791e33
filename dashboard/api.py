"""The overview in the API (the project package composes the apps; the core apps know none of them)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from dashboard.core.api.base import BerthApiView, with_errors
from storage.selectors import ceph_cluster_get
from storage.services.cluster import cluster_overview


class HealthCheckSerializer(serializers.Serializer):
    name = serializers.CharField()
    severity = serializers.CharField()
    message = serializers.CharField()


class ClusterOverviewSerializer(serializers.Serializer):
    cluster = serializers.CharField()
    health_status = serializers.CharField()
    health_text = serializers.CharField(help_text="Exactly what `ceph health` prints")
    checks = HealthCheckSerializer(many=True)
    bytes_used = serializers.IntegerField()
    bytes_total = serializers.IntegerField()
    percent_used = serializers.FloatField()
    pool_count = serializers.IntegerField()
    image_count = serializers.IntegerField()
    osds_total = serializers.IntegerField()
    osds_up = serializers.IntegerField()
    osds_in = serializers.IntegerField()


class OverviewApi(BerthApiView):
    @extend_schema(
        parameters=[OpenApiParameter("cluster", str, description="Cluster name; the default cluster if omitted")],
        responses=with_errors({200: ClusterOverviewSerializer}),
    )
    def get(self, request):
        cluster = ceph_cluster_get(actor=request.user, name=request.query_params.get("cluster"))
        summary = cluster_overview(actor=request.user, cluster=cluster)
        return Response(ClusterOverviewSerializer(summary).data)
