"""Django permissions from Berth's platform roles, for the admin site (which asks Django, not Berth's
services). Listed before ModelBackend in AUTHENTICATION_BACKENDS so that its refusals stop the
backends after it."""

from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from dashboard.tenancy.services import is_auditor, reads_all_activity

AUDIT_LOG_PERMISSIONS = frozenset({"audit.view_auditevent"})


class PlatformRoleBackend:
    """Platform admins and auditors may read the audit log. An auditor may do nothing else in the
    admin, whatever Django permissions their user or groups were given: raising PermissionDenied
    makes Django refuse without asking the other backends.

    Not a BaseBackend: that has `get_user`, and the test client's force_login (and anything else
    picking the first backend able to load users) would then sign users in through this one."""

    def authenticate(self, request: Any, **credentials: Any) -> None:
        return None

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        if perm in AUDIT_LOG_PERMISSIONS and reads_all_activity(user_obj):
            return True
        if is_auditor(user_obj):
            raise PermissionDenied
        return False

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        if app_label == "audit" and reads_all_activity(user_obj):
            return True
        if is_auditor(user_obj):
            raise PermissionDenied
        return False

    async def ahas_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return await sync_to_async(self.has_perm)(user_obj, perm, obj)

    async def ahas_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return await sync_to_async(self.has_module_perms)(user_obj, app_label)


class LocalPasswordBackend(ModelBackend):
    """Django's password sign-in; with BERTH_LOCAL_LOGIN=false only superusers (the break-glass accounts
    kept for when the identity provider is away, docs/sso.md) may use it."""

    def user_can_authenticate(self, user: Any) -> bool:
        if not settings.BERTH_LOCAL_LOGIN and not getattr(user, "is_superuser", False):
            return False
        return super().user_can_authenticate(user)
