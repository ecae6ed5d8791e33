"""The API token endpoints: list your tokens, revoke one. Tokens are made on the API tokens page,
signed in with a password, so a token can never mint its own successor and outlive its expiry."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from dashboard.core.api.base import BerthApiView, with_errors
from dashboard.tenancy import tokens
from dashboard.tenancy.models import ApiToken


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
