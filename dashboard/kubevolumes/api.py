"""The API of "Use in Kubernetes": a binding's ceph-csi objects, an image as a static volume."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from dashboard.core.api.base import BerthApiView, with_errors
from dashboard.core.errors import NotFound
from dashboard.kubevolumes import services as kubevolumes
from dashboard.tenancy import services as tenancy
from registry.services.csi import FS_TYPES, RECLAIM_POLICIES, VOLUME_MODES
from storage.models import StorageBinding
from storage.selectors import ceph_cluster_get
from storage.validation import validate_namespace, validate_object_name

CLUSTER = OpenApiParameter("cluster", str, description="Ceph cluster name; the default cluster if omitted")
NAMESPACE = OpenApiParameter(
    "namespace", str, description="RBD namespace of the image. Read from here for every method, never from the body."
)


class KubeObjectSerializer(serializers.Serializer):
    kind = serializers.CharField()
    name = serializers.CharField()
    namespace = serializers.CharField()
    outcome = serializers.ChoiceField(
        choices=["created", "updated", "unchanged", "to apply", "not written", "left to Rook"]
    )
    reason = serializers.CharField()
    manifest = serializers.DictField(
        source="shown",
        help_text="The object. A Secret's userKey is redacted unless Berth could not write the Secret with the key it "
        "minted in this request: then it is here, once.",
    )


class KubeUseSerializer(serializers.Serializer):
    kube_cluster = serializers.CharField(source="kube_cluster.name")
    key_minted = serializers.BooleanField()
    objects = KubeObjectSerializer(many=True)
    yaml = serializers.CharField(help_text="The objects to apply by hand (not written, or refused to Berth), as YAML.")


class BindingSetupSerializer(serializers.Serializer):
    mint_key = serializers.BooleanField(
        default=False, help_text="Mint a new Ceph key (revoking the current one) and write ceph-csi's Secret with it."
    )
    fs_type = serializers.ChoiceField(choices=FS_TYPES, default="ext4")
    reclaim_policy = serializers.ChoiceField(choices=RECLAIM_POLICIES, default="Delete")
    resource_quotas = serializers.BooleanField(
        default=False,
        help_text="Also write a ResourceQuota for the class in every namespace: the tenant's storage quota in its "
        "namespaces, 0 in the others.",
    )


class BindingKubernetesApi(BerthApiView):
    """A tenant's storage binding (an RBD namespace) for its Kubernetes cluster; tenant admins only."""

    def binding(self, request: Any, slug: str, binding_id: int) -> StorageBinding:
        tenant = tenancy.tenant_get(actor=request.user, slug=slug)
        binding = tenant.storage_bindings.select_related("cluster", "tenant").filter(pk=binding_id).first()
        if binding is None:
            raise NotFound(f"Tenant {slug} has no storage binding {binding_id}.", code="binding_not_found")
        return binding

    @extend_schema(
        parameters=[OpenApiParameter("fs_type", str, enum=FS_TYPES), OpenApiParameter("reclaim_policy", str)],
        responses=with_errors({200: KubeUseSerializer}),
    )
    def get(self, request, slug: str, binding_id: int):
        """The Secret (key redacted), `ceph-csi-config` entry and StorageClass as they would be written."""
        use = kubevolumes.binding_kube_preview(
            actor=request.user,
            binding=self.binding(request, slug, binding_id),
            fs_type=request.query_params.get("fs_type", "ext4"),
            reclaim_policy=request.query_params.get("reclaim_policy", "Delete"),
        )
        return Response(KubeUseSerializer(use).data)

    @extend_schema(request=BindingSetupSerializer, responses=with_errors({200: KubeUseSerializer}))
    def post(self, request, slug: str, binding_id: int):
        """Write the objects. Those Berth's Kubernetes credentials may not write come back to apply by hand."""
        use = kubevolumes.binding_kube_setup(
            actor=request.user,
            binding=self.binding(request, slug, binding_id),
            **self.valid(BindingSetupSerializer, request.data),
        )
        return Response(KubeUseSerializer(use).data)


class ImageVolumeRequestSerializer(serializers.Serializer):
    kube_namespace = serializers.CharField(help_text="One of the tenant's Kubernetes namespaces, for the claim.")
    claim = serializers.CharField(max_length=253, help_text="The PersistentVolumeClaim's name.")
    volume_mode = serializers.ChoiceField(choices=VOLUME_MODES, default="Filesystem")
    fs_type = serializers.ChoiceField(choices=FS_TYPES, default="ext4")


class ImageVolumeSerializer(serializers.Serializer):
    kube_cluster = serializers.CharField(source="kube_cluster.name")
    kube_namespace = serializers.CharField()
    claim = serializers.CharField()
    objects = KubeObjectSerializer(many=True)
    yaml = serializers.CharField(help_text="The objects Berth may not write, to apply by hand, as YAML.")


class ImageVolumeApi(BerthApiView):
    """An image as a static PersistentVolume with its claim; tenant admins only."""

    @extend_schema(
        parameters=[CLUSTER, NAMESPACE],
        request=ImageVolumeRequestSerializer,
        responses=with_errors({201: ImageVolumeSerializer}),
    )
    def post(self, request, pool: str, name: str):
        validate_object_name(pool, field="pool")
        validate_object_name(name, field="name")
        volume = kubevolumes.image_kube_volume_create(
            actor=request.user,
            cluster=ceph_cluster_get(actor=request.user, name=request.query_params.get("cluster")),
            pool=pool,
            namespace=validate_namespace(request.query_params.get("namespace", "")),
            name=name,
            **self.valid(ImageVolumeRequestSerializer, request.data),
        )
        return Response(ImageVolumeSerializer(volume).data, status=201)
