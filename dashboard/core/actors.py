"""Who a service acts for: `request.user` as Django types it, a signed-in user or an anonymous one
(whom the services' own tenancy and role checks refuse)."""

from typing import TypeGuard

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User

Actor = AbstractBaseUser | AnonymousUser


def signed_in(actor: Actor | None) -> TypeGuard[User]:
    """A signed-in actor is an instance of AUTH_USER_MODEL, which in Berth is Django's User."""
    return bool(getattr(actor, "is_authenticated", False))
