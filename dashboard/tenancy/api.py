"""The tenancy API: tenants (everyone sees theirs; platform admins create, edit and delete them), and
the API token endpoints: list your tokens, revoke one. Tokens are made on the API tokens page,
signed in with a password, so a token can never mint its own successor and outlive its expiry."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from dashboard.core.api.base import BerthApiView, with_errors
from dashboard.tenancy import services as tenancy
from dashboard.tenancy import tokens
from dashboard.tenancy.models import ApiToken, Tenant


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created", "expires", "last_used"]
        extra_kwargs = {"prefix": {"help_text": "The key's first characters, to tell tokens apart"}}


class ApiTokenListApi(BerthApiView):
    @extend_schema(responses=with_errors({200: ApiTokenSerializer(many=True)}), description="Your API tokens.")
    def get(self, request):
        return Response(ApiTokenSerializer(tokens.api_token_list(actor=request.user), many=True).data)


class ApiTokenDetailApi(BerthApiView):
    @extend_schema(responses=with_errors({204: None}), description="Revoke one of your API tokens; it stops working.")
    def delete(self, request, token_id):
        tokens.api_token_revoke(actor=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TenantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["slug", "name", "description"]


class TenantCreateSerializer(serializers.Serializer):
    slug = serializers.CharField(max_length=48, help_text="Names the tenant in addresses; cannot be changed later")
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class TenantUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class TenantDeleteSerializer(serializers.Serializer):
    confirm_name = serializers.CharField(help_text="The tenant's slug, repeated")


class TenantListApi(BerthApiView):
    @extend_schema(responses=with_errors({200: TenantSerializer(many=True)}), description="The tenants you may see.")
    def get(self, request):
        return Response(TenantSerializer(tenancy.tenants_for(request.user), many=True).data)

    @extend_schema(
        request=TenantCreateSerializer,
        responses=with_errors({201: TenantSerializer}),
        description="Create a tenant (platform admins).",
    )
    def post(self, request):
        tenant = tenancy.tenant_create(actor=request.user, **self.valid(TenantCreateSerializer, request.data))
        return Response(TenantSerializer(tenant).data, status=status.HTTP_201_CREATED)


class TenantDetailApi(BerthApiView):
    @extend_schema(responses=with_errors({200: TenantSerializer}))
    def get(self, request, slug):
        return Response(TenantSerializer(tenancy.tenant_get(actor=request.user, slug=slug)).data)

    @extend_schema(
        request=TenantUpdateSerializer,
        responses=with_errors({200: TenantSerializer}),
        description="Rename a tenant or change its description (platform admins); the slug stays.",
    )
    def patch(self, request, slug):
        tenant = tenancy.tenant_get(actor=request.user, slug=slug)
        data = self.valid(TenantUpdateSerializer, request.data)
        return Response(TenantSerializer(tenancy.tenant_update(actor=request.user, tenant=tenant, **data)).data)

    @extend_schema(
        request=TenantDeleteSerializer,
        responses=with_errors({204: None}),
        description="Delete a tenant (platform admins); confirm_name must repeat its slug. Refused (409 "
        "tenant_not_empty) while it owns images or pull secrets Berth manages; its Ceph keys are revoked.",
    )
    def delete(self, request, slug):
        tenant = tenancy.tenant_get(actor=request.user, slug=slug)
        data = self.valid(TenantDeleteSerializer, request.data)
        tenancy.tenant_delete(actor=request.user, tenant=tenant, confirm_name=data["confirm_name"])
        return Response(status=status.HTTP_204_NO_CONTENT)
