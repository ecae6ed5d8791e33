from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from dashboard.core.errors import NotAuthenticated
from dashboard.tenancy.oidc import bearer_user
from dashboard.tenancy.tokens import api_token_authenticate


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>`, the header DRF's authtoken used, so existing clients keep working."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Give the token after 'Token ', with no spaces in it.")
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid API token.", code="invalid_token") from None
        try:
            return api_token_authenticate(key=key)
        except NotAuthenticated as error:
            raise exceptions.AuthenticationFailed(error.message, code=error.code) from None

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class OidcBearerAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <JWT>`: an access token the OpenID provider issued to a client by the client-credentials
    grant, for Berth's API audience (BERTH_OIDC_API_AUDIENCE; docs/sso.md). Passes while that is not set."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != b"bearer" or not settings.BERTH_OIDC_API_AUDIENCE:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Give the token after 'Bearer ', with no spaces in it.")
        try:
            return bearer_user(header[1].decode()), None
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid bearer token.", code="invalid_token") from None
        except NotAuthenticated as error:
            raise exceptions.AuthenticationFailed(error.message, code=error.code) from None

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class OidcBearerScheme(OpenApiAuthenticationExtension):
    target_class = OidcBearerAuthentication
    name = "oidcBearer"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Bearer", bearer_format="JWT"
        )


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes the token header (drf-spectacular knows only DRF's own classes)."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix=self.target.keyword)
