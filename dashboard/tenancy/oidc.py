"""OpenID Connect sign-in (docs/sso.md), on mozilla-django-oidc's code flow with PKCE.

Berth adds what the library leaves out: the provider's endpoints come from its discovery document (read on
first use and kept for an hour), the ID token is validated completely (signature by a key of the provider's
JWKS with an allowed algorithm, issuer, audience, expiry, issue time, nonce), accounts are linked by issuer
and subject rather than by e-mail address, and the groups claim is applied to the user's roles at each
sign-in (dashboard/tenancy/directory.py). Client-credentials access tokens are checked here too, for the API.
"""

import hashlib
import logging
import threading
import time
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from dashboard.core.errors import NotAuthenticated
from dashboard.tenancy.directory import directory_roles_sync, external_user, external_user_create
from dashboard.tenancy.models import OIDC

logger = logging.getLogger(__name__)

DISCOVERY_TTL = 3600
# Clock difference allowed between Berth and the provider, in seconds.
LEEWAY = 60

_lock = threading.Lock()
_discovery: dict[str, tuple[float, dict[str, Any]]] = {}
_jwks_clients: dict[str, jwt.PyJWKClient] = {}


def oidc_enabled() -> bool:
    return bool(settings.BERTH_OIDC_ISSUER)


def discovery() -> dict[str, Any]:
    """The provider's metadata from `<issuer>/.well-known/openid-configuration`, whose `issuer` must be ours."""
    issuer = settings.BERTH_OIDC_ISSUER.rstrip("/")
    with _lock:
        cached = _discovery.get(issuer)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
    response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=settings.BERTH_OIDC_TIMEOUT)
    response.raise_for_status()
    document = dict(response.json())
    if document.get("issuer", "").rstrip("/") != issuer:
        raise SuspiciousOperation(f"The provider at {issuer} says its issuer is {document.get('issuer')!r}.")
    with _lock:
        _discovery[issuer] = (time.monotonic() + DISCOVERY_TTL, document)
    return document


def _signing_key(token: str) -> Any:
    jwks_uri = discovery()["jwks_uri"]
    with _lock:
        client = _jwks_clients.get(jwks_uri)
        if client is None:
            # PyJWKClient fetches the key set again when a token names a key it has not seen (a rotation).
            client = _jwks_clients[jwks_uri] = jwt.PyJWKClient(jwks_uri, cache_keys=True, lifespan=DISCOVERY_TTL)
    return client.get_signing_key_from_jwt(token).key


def verify_jwt(token: str, *, audience: str) -> dict[str, Any]:
    """The claims of a JWT the provider signed for `audience`; jwt.InvalidTokenError (or a subclass) otherwise.

    The algorithm is one of BERTH_OIDC_SIGN_ALGORITHMS whatever the token's header says, so neither `none`
    nor an HMAC keyed with the provider's public key gets through."""
    return dict(
        jwt.decode(
            token,
            _signing_key(token),
            algorithms=settings.BERTH_OIDC_SIGN_ALGORITHMS,
            audience=audience,
            issuer=discovery()["issuer"],
            leeway=LEEWAY,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    )


# Where the backend leaves the ID token for the callback view, on the request rather than in the session.
LOGOUT_HINT_ATTRIBUTE = "berth_oidc_logout_hint"


class OidcBackend(OIDCAuthenticationBackend):
    """Signs in the users of the configured OpenID provider; answers nothing while none is configured."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django makes a backend for every request's user lookup: the library's __init__ reads the endpoints,
        # which here come from discovery, so nothing is read before a sign-in needs it.
        self.UserModel = get_user_model()

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return oidc_setting(attr, *args)

    # The library's attribute names, read when needed rather than in __init__.
    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:
        return str(discovery()["token_endpoint"])

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str:
        return str(discovery()["userinfo_endpoint"])

    @property
    def OIDC_RP_CLIENT_ID(self) -> str:
        return str(settings.BERTH_OIDC_CLIENT_ID)

    @property
    def OIDC_RP_CLIENT_SECRET(self) -> str:
        return str(settings.BERTH_OIDC_CLIENT_SECRET)

    def authenticate(self, request: Any, **kwargs: Any) -> Any:
        if not oidc_enabled() or request is None or "code" not in request.GET:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except (SuspiciousOperation, requests.RequestException) as error:
            logger.warning("single sign-on refused: %s", error)
            return None

    def store_tokens(self, access_token: str, id_token: str) -> None:
        # The library would keep the ID token in the session, which the database holds; it goes to the browser
        # instead, as the hint of the provider's logout (sso_views.OidcCallbackView).
        setattr(self.request, LOGOUT_HINT_ATTRIBUTE, id_token)

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        try:
            claims = verify_jwt(token, audience=self.OIDC_RP_CLIENT_ID)
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as error:
            raise SuspiciousOperation(f"ID token refused: {error}") from None
        if claims.get("nonce") != kwargs.get("nonce"):
            raise SuspiciousOperation("ID token refused: its nonce is not the one this sign-in sent.")
        return claims

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload["sub"]:
            raise SuspiciousOperation("The userinfo answer is about another subject than the ID token.")
        # The signed ID token's claims win where both have one (Entra ID sends groups only there).
        return {**userinfo, **payload}

    def get_user(self, user_id: Any) -> Any:
        # The library's get_user loads inactive users too: a deactivated user's session would go on working.
        user = super().get_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        user = external_user(source=OIDC, issuer=discovery()["issuer"], subject=str(claims["sub"]))
        return self.UserModel.objects.filter(pk=user.pk) if user is not None else self.UserModel.objects.none()

    def create_user(self, claims: dict[str, Any]) -> Any:
        user = external_user_create(
            source=OIDC,
            issuer=discovery()["issuer"],
            subject=str(claims["sub"]),
            username=str(claims.get(settings.BERTH_OIDC_USERNAME_CLAIM) or claims.get("email") or claims["sub"]),
            email=str(claims.get("email") or ""),
            first_name=str(claims.get("given_name") or ""),
            last_name=str(claims.get("family_name") or ""),
        )
        return self.update_user(user, claims)

    def update_user(self, user: Any, claims: dict[str, Any]) -> Any:
        # A deactivated user is refused by the callback right after this; their roles stay as they were.
        if user.is_active:
            directory_roles_sync(user=user, source=OIDC, groups=claim_groups(claims))
        return user


def claim_groups(claims: dict[str, Any]) -> list[str]:
    """The groups named in the configured claim: a list of names, or one name. Missing means none."""
    value = claims.get(settings.BERTH_OIDC_GROUPS_CLAIM)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value]
    return []


_FROM_DISCOVERY = {"OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint"}


def oidc_setting(attr: str, *args: Any) -> Any:
    """What mozilla-django-oidc's views and backend ask for, from Berth's settings and the discovery document."""
    if attr in _FROM_DISCOVERY:
        return discovery()[_FROM_DISCOVERY[attr]]
    if attr == "OIDC_RP_CLIENT_ID":
        return settings.BERTH_OIDC_CLIENT_ID
    if attr == "OIDC_RP_CLIENT_SECRET":
        return settings.BERTH_OIDC_CLIENT_SECRET
    if attr == "OIDC_RP_SCOPES":
        return settings.BERTH_OIDC_SCOPES
    if hasattr(settings, attr):
        return getattr(settings, attr)
    if args:
        return args[0]
    raise AttributeError(attr)


def bearer_user(token: str) -> Any:
    """The user an OpenID client-credentials access token acts as (BERTH_OIDC_API_AUDIENCE must be set).

    Each client has a service user of its own, made at its first request, linked by issuer and subject like a
    person. Its roles come from the rule table: a rule for the group `client:<client_id>`, or for a group or
    app role the token names in the groups claim. They are brought up to date once per token, not per request."""
    try:
        claims = verify_jwt(token, audience=settings.BERTH_OIDC_API_AUDIENCE)
    except (jwt.InvalidTokenError, jwt.PyJWKClientError, requests.RequestException) as error:
        raise NotAuthenticated(f"Bearer token refused: {error}", code="invalid_token") from None
    issuer, subject = discovery()["issuer"], str(claims["sub"])
    client_id = str(claims.get("client_id") or claims.get("azp") or subject)
    user = external_user(source=OIDC, issuer=issuer, subject=subject)
    if user is None:
        user = external_user_create(source=OIDC, issuer=issuer, subject=subject, username=f"client-{client_id}")
    if not user.is_active:
        raise NotAuthenticated("This client's Berth user is deactivated.", code="invalid_token")
    lifetime = max(1, int(claims["exp"]) - int(time.time()))
    if cache.add(f"berth-oidc-bearer:{hashlib.sha256(token.encode()).hexdigest()}", True, timeout=lifetime):
        directory_roles_sync(user=user, source=OIDC, groups=[f"client:{client_id}", *claim_groups(claims)])
    return user
