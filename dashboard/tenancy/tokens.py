"""API tokens: made by their owner and shown once, kept only as a SHA-256 digest, valid until they
expire (BERTH_API_TOKEN_DAYS at most) or their owner revokes them.

Keys are 256 random bits, so a fast digest is as good as a slow password hash here; a stolen database
gives no usable key. Tokens DRF's authtoken made before Berth had its own were moved here by migration
tenancy 0003 with their digest, so they keep working until they expire.
"""

import datetime as dt
import hashlib
import secrets
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from dashboard.audit.services import audited_action
from dashboard.core.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from dashboard.tenancy.models import ApiToken

KEY_PREFIX = "berth_"
# The characters of a key its owner sees in lists: the prefix and six of the 43 random ones.
SHOWN_CHARACTERS = len(KEY_PREFIX) + 6
# How stale `last_used` may get: writing it on every API request would make each read a write.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_days_limit() -> int:
    return int(settings.BERTH_API_TOKEN_DAYS)


def api_token_list(*, actor: Any) -> list[ApiToken]:
    """The actor's own tokens, newest first; never their keys, which are not kept."""
    if not getattr(actor, "is_authenticated", False):
        return []
    return list(ApiToken.objects.filter(user=actor).order_by("-created"))


@audited_action("auth.api_token.create", target=("name",), params=("days",))
def api_token_create(*, actor: Any, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """A new token of the actor's and its key, which is returned this once and stored nowhere."""
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("Sign in to make an API token.", code="permission_denied")
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("name: give the token a name of 1 to 100 characters.", extra={"field": "name"})
    limit = api_token_days_limit()
    days = limit if days is None else days
    if not 1 <= days <= limit:
        raise InvalidInput(
            f"days: a token lives between 1 and {limit} days.", code="invalid_days", extra={"field": "days"}
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=actor,
        name=name,
        prefix=key[:SHOWN_CHARACTERS],
        key_hash=key_digest(key),
        created=now,
        expires=now + dt.timedelta(days=days),
    )
    return token, key


@audited_action("auth.api_token.revoke", target=("token_id",))
def api_token_revoke(*, actor: Any, token_id: uuid.UUID | str) -> None:
    """Only the owner revokes a token here (superusers also may in the admin); anyone else's token
    answers as a missing one."""
    if not getattr(actor, "is_authenticated", False):
        raise NotFound(f"You have no API token {token_id}.", code="token_not_found")
    try:
        deleted, _ = ApiToken.objects.filter(pk=token_id, user=actor).delete()
    except (ValidationError, ValueError):
        deleted = 0
    if not deleted:
        raise NotFound(f"You have no API token {token_id}.", code="token_not_found")


def api_token_authenticate(*, key: str) -> tuple[Any, ApiToken]:
    """(user, token) for a key presented with a request; refused once expired or revoked, and for
    inactive users."""
    token = ApiToken.objects.select_related("user").filter(key_hash=key_digest(key)).first()
    if token is None or not token.user.is_active:
        raise NotAuthenticated("Invalid API token (revoked, or never issued).", code="invalid_token")
    now = timezone.now()
    if token.expires <= now:
        raise NotAuthenticated(
            f"This API token expired on {token.expires:%Y-%m-%d %H:%M} UTC; make a new one on your API tokens page.",
            code="token_expired",
        )
    if token.last_used is None or now - token.last_used >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return token.user, token
