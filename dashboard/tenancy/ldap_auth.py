"""LDAP sign-in (docs/sso.md), on django-auth-ldap: the login page's username and password are checked by
binding as the user found under BERTH_LDAP_USER_BASE, and the names (cn) of the user's groups under
BERTH_LDAP_GROUP_BASE go through the same rule table as OpenID Connect groups (dashboard/tenancy/directory.py).

As for OpenID Connect, a directory entry is linked to its Berth user by the server and the entry's DN, never by
a matching username, so no directory entry can sign in as a local user (the break-glass admin, say)."""

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django_auth_ldap import config as ldap_config
from django_auth_ldap.backend import LDAPBackend, LDAPSettings

from dashboard.tenancy.directory import directory_roles_sync, external_user, external_user_create
from dashboard.tenancy.models import LDAP

GROUP_TYPES = {
    "groupOfNames": ldap_config.GroupOfNamesType,
    "groupOfUniqueNames": ldap_config.GroupOfUniqueNamesType,
    "posixGroup": ldap_config.PosixGroupType,
    "nestedGroupOfNames": ldap_config.NestedGroupOfNamesType,
    # Active Directory: groups by `member`, nested groups included.
    "activeDirectory": ldap_config.NestedActiveDirectoryGroupType,
}


def ldap_enabled() -> bool:
    return bool(settings.BERTH_LDAP_SERVER_URI)


def _ldap_settings() -> dict[str, Any]:
    import ldap

    group_type = GROUP_TYPES.get(settings.BERTH_LDAP_GROUP_TYPE)
    if group_type is None:
        raise ImproperlyConfigured(f"BERTH_LDAP_GROUP_TYPE must be one of {', '.join(GROUP_TYPES)}")
    options: dict[Any, Any] = {ldap.OPT_NETWORK_TIMEOUT: settings.BERTH_LDAP_TIMEOUT}
    if settings.BERTH_LDAP_CA_FILE:
        options[ldap.OPT_X_TLS_CACERTFILE] = settings.BERTH_LDAP_CA_FILE
        options[ldap.OPT_X_TLS_NEWCTX] = 0
    return {
        "SERVER_URI": settings.BERTH_LDAP_SERVER_URI,
        "BIND_DN": settings.BERTH_LDAP_BIND_DN,
        "BIND_PASSWORD": settings.BERTH_LDAP_BIND_PASSWORD,
        "START_TLS": settings.BERTH_LDAP_START_TLS,
        "CONNECTION_OPTIONS": options,
        "USER_SEARCH": ldap_config.LDAPSearch(
            settings.BERTH_LDAP_USER_BASE, ldap.SCOPE_SUBTREE, settings.BERTH_LDAP_USER_FILTER
        ),
        "GROUP_SEARCH": ldap_config.LDAPSearch(
            settings.BERTH_LDAP_GROUP_BASE, ldap.SCOPE_SUBTREE, settings.BERTH_LDAP_GROUP_FILTER
        ),
        "GROUP_TYPE": group_type(),
        "USER_ATTR_MAP": {"first_name": "givenName", "last_name": "sn", "email": "mail"},
        "ALWAYS_UPDATE_USER": True,
        # Groups become roles through the rule table, not Django groups or permissions.
        "FIND_GROUP_PERMS": False,
        "MIRROR_GROUPS": False,
    }


class LdapBackend(LDAPBackend):
    """Signs in the directory's users with the login page's form; answers nothing while no server is configured."""

    _settings: Any = None

    @property
    def settings(self) -> Any:
        if self._settings is None:
            self._settings = LDAPSettings(self.settings_prefix, _ldap_settings())
        return self._settings

    def authenticate(self, request: Any, username: Any = None, password: Any = None, **kwargs: Any) -> Any:
        if not ldap_enabled():
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def authenticate_ldap_user(self, ldap_user: Any, password: str) -> Any:
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is None or not user.is_active:
            return None
        directory_roles_sync(user=user, source=LDAP, groups=sorted(ldap_user.group_names))
        return user

    def get_or_build_user(self, username: str, ldap_user: Any) -> tuple[Any, bool]:
        issuer, subject = settings.BERTH_LDAP_SERVER_URI, ldap_user.dn.lower()
        user = external_user(source=LDAP, issuer=issuer, subject=subject)
        if user is None:
            user = external_user_create(source=LDAP, issuer=issuer, subject=subject, username=username)
        return user, False

    def get_group_permissions(self, user: Any, obj: Any = None) -> set[str]:
        # Groups give Berth roles through the rule table, never Django permissions; Django asks every backend on
        # every permission check, and answering from here would read the LDAP settings each time.
        return set()

    def get_user(self, user_id: Any) -> Any:
        # django-auth-ldap loads inactive users too: a deactivated user's session would go on working.
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None
