"""A tenant's storage bindings in the API: list them; platform admins bind a pool or an RBD namespace
(created when missing) and unbind one (refused while it holds images, unless `keep_images`)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from dashboard.core.api.base import BerthApiView, with_errors
from dashboard.core.errors import NotFound
from dashboard.tenancy import services as tenancy
from storage.api.views import CLUSTER
from storage.models import StorageBinding
from storage.selectors import ceph_cluster_get
from storage.services import tenant_bindings


class BindingSerializer(serializers.ModelSerializer):
    cluster = serializers.CharField(source="cluster.name")
    tenant = serializers.CharField(source="tenant.slug")

    class Meta:
        model = StorageBinding
        fields = ["id", "tenant", "cluster", "pool", "namespace"]
        extra_kwargs = {"namespace": {"help_text": "Empty: the whole pool"}}


class BindingCreateSerializer(serializers.Serializer):
    pool = serializers.CharField()
    namespace = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Created if missing; empty: the whole pool"
    )


class BindingDeleteSerializer(serializers.Serializer):
    keep_images = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Unbind although the place holds images: they stay in Ceph, no longer counted for the tenant",
    )


class BindingListApi(BerthApiView):
    @extend_schema(responses=with_errors({200: BindingSerializer(many=True)}))
    def get(self, request, slug):
        tenant = tenancy.tenant_get(actor=request.user, slug=slug)
        return Response(BindingSerializer(tenant.storage_bindings.select_related("cluster", "tenant"), many=True).data)

    @extend_schema(
        parameters=[CLUSTER],
        request=BindingCreateSerializer,
        responses=with_errors({201: BindingSerializer}),
        description="Bind a pool or an RBD namespace to the tenant (platform admins); a namespace that does not "
        "exist is created in the same step.",
    )
    def post(self, request, slug):
        tenant = tenancy.tenant_get(actor=request.user, slug=slug)
        data = self.valid(BindingCreateSerializer, request.data)
        binding = tenant_bindings.storage_binding_create(
            actor=request.user,
            tenant=tenant,
            cluster=ceph_cluster_get(actor=request.user, name=request.query_params.get("cluster")),
            pool=data["pool"],
            namespace=data["namespace"],
        )
        return Response(BindingSerializer(binding).data, status=status.HTTP_201_CREATED)


class BindingDetailApi(BerthApiView):
    def binding(self, request, slug: str, binding_id: int) -> StorageBinding:
        tenant = tenancy.tenant_get(actor=request.user, slug=slug)
        binding = tenant.storage_bindings.select_related("cluster", "tenant").filter(pk=binding_id).first()
        if binding is None:
            raise NotFound(f"Tenant {slug} has no storage binding {binding_id}.", code="binding_not_found")
        return binding

    @extend_schema(responses=with_errors({200: BindingSerializer}))
    def get(self, request, slug, binding_id):
        return Response(BindingSerializer(self.binding(request, slug, binding_id)).data)

    @extend_schema(
        request=BindingDeleteSerializer,
        responses=with_errors({204: None}),
        description="Unbind (platform admins): the binding's Ceph keys are revoked first. Refused (409 "
        "binding_holds_images) while the place holds images, unless keep_images is true.",
    )
    def delete(self, request, slug, binding_id):
        binding = self.binding(request, slug, binding_id)
        data = self.valid(BindingDeleteSerializer, request.data)
        tenant_bindings.storage_binding_delete(actor=request.user, binding=binding, keep_images=data["keep_images"])
        return Response(status=status.HTTP_204_NO_CONTENT)
