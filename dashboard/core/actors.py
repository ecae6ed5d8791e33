"""Who a service acts for: `request.user` as Django types it, a signed-in user or an anonymous one
(whom the services' own tenancy and role checks refuse)."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

Actor = AbstractBaseUser | AnonymousUser
