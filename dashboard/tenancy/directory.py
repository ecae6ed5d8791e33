"""Roles that follow a directory's groups (docs/sso.md): at each sign-in through OpenID Connect or LDAP, the
user's groups are matched against the rule table (`DirectoryRoleRule`); roles the rules give are granted,
roles an earlier sign-in through the same source granted are changed or taken away when their group is gone,
and roles set by hand are never touched. Every change is its own audit event, naming the source.
"""

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from dashboard.audit.services import audited_action
from dashboard.tenancy.models import (
    DIRECTORY_SOURCES,
    DirectoryRoleRule,
    ExternalIdentity,
    Membership,
    PlatformRole,
    Tenant,
)

_TENANT_RANK = {Membership.VIEWER: 1, Membership.OPERATOR: 2, Membership.ADMIN: 3}
_PLATFORM_RANK = {PlatformRole.AUDITOR: 1, PlatformRole.PLATFORM_ADMIN: 2}


@dataclass(frozen=True)
class Grant:
    role: str
    group: str


@dataclass
class WantedRoles:
    """What a set of groups gives under the rules: the highest role per tenant, and the highest platform role."""

    tenants: dict[int, Grant] = field(default_factory=dict)
    platform: Grant | None = None


def wanted_roles(rules: Collection[DirectoryRoleRule], groups: Collection[str]) -> WantedRoles:
    """Pure: the roles `groups` give under `rules`. Where several groups give roles in one place, the highest wins."""
    held = set(groups)
    wanted = WantedRoles()
    for rule in sorted(rules, key=lambda rule: rule.group):
        if rule.group not in held:
            continue
        if rule.tenant_id is None:
            if wanted.platform is None or _PLATFORM_RANK[rule.platform_role] > _PLATFORM_RANK[wanted.platform.role]:
                wanted.platform = Grant(rule.platform_role, rule.group)
        else:
            current = wanted.tenants.get(rule.tenant_id)
            if current is None or _TENANT_RANK[rule.tenant_role] > _TENANT_RANK[current.role]:
                wanted.tenants[rule.tenant_id] = Grant(rule.tenant_role, rule.group)
    return wanted


@dataclass
class RoleChanges:
    granted: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)


def _check_source(source: str) -> None:
    if source not in DIRECTORY_SOURCES:
        raise ValueError(f"not a directory source: {source}")


@audited_action("tenancy.directory.membership_set", target=("tenant", "username"), params=("role", "source", "group"))
def _membership_set(
    *, actor: None, tenant: Tenant, username: str, user: Any, role: str, source: str, group: str
) -> None:
    Membership.objects.update_or_create(user=user, tenant=tenant, defaults={"role": role, "source": source})


@audited_action("tenancy.directory.membership_remove", target=("tenant", "username"), params=("source",))
def _membership_remove(*, actor: None, tenant: Tenant, username: str, membership: Membership, source: str) -> None:
    membership.delete()


@audited_action("tenancy.directory.platform_role_set", target=("username",), params=("role", "source", "group"))
def _platform_role_set(*, actor: None, username: str, user: Any, role: str, source: str, group: str) -> None:
    PlatformRole.objects.update_or_create(user=user, defaults={"role": role, "source": source})
    if role == PlatformRole.AUDITOR and not user.is_staff:
        # Auditors read the audit log in the admin site, which lets in staff only (as PlatformRoleAdmin does).
        user.is_staff = True
        user.save(update_fields=["is_staff"])


@audited_action("tenancy.directory.platform_role_remove", target=("username",), params=("source",))
def _platform_role_remove(*, actor: None, username: str, platform_role: PlatformRole, source: str) -> None:
    platform_role.delete()


def directory_roles_sync(*, user: Any, source: str, groups: Collection[str]) -> RoleChanges:
    """Bring the user's directory roles from `source` in line with `groups`; manual roles stay as they are.

    A superuser's platform admin status is Django's `is_superuser`, which no directory changes."""
    _check_source(source)
    wanted = wanted_roles(list(DirectoryRoleRule.objects.filter(group__in=set(groups))), groups)
    changes = RoleChanges()
    username = user.get_username()
    with transaction.atomic():
        # Locked, so that two sign-ins of one user at once cannot both add the same membership.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        held = {membership.tenant_id: membership for membership in Membership.objects.filter(user=user)}
        tenants = Tenant.objects.in_bulk([*wanted.tenants, *held])
        for tenant_id, membership in held.items():
            if membership.source != source:
                continue
            grant = wanted.tenants.get(tenant_id)
            if grant is None:
                _membership_remove(
                    actor=None, tenant=tenants[tenant_id], username=username, membership=membership, source=source
                )
                changes.revoked.append(f"{membership.role} of {tenants[tenant_id].slug}")
        for tenant_id, grant in wanted.tenants.items():
            current = held.get(tenant_id)
            if current is not None and (current.source != source or current.role == grant.role):
                continue
            _membership_set(
                actor=None,
                tenant=tenants[tenant_id],
                username=username,
                user=user,
                role=grant.role,
                source=source,
                group=grant.group,
            )
            changes.granted.append(f"{grant.role} of {tenants[tenant_id].slug}")
        platform = PlatformRole.objects.filter(user=user).first()
        if platform is not None and platform.source == source and wanted.platform is None:
            _platform_role_remove(actor=None, username=username, platform_role=platform, source=source)
            changes.revoked.append(platform.role)
        elif wanted.platform is not None and (
            platform is None or (platform.source == source and platform.role != wanted.platform.role)
        ):
            _platform_role_set(
                actor=None,
                username=username,
                user=user,
                role=wanted.platform.role,
                source=source,
                group=wanted.platform.group,
            )
            changes.granted.append(wanted.platform.role)
    # Django caches the user's platform role row; the next check must see this sign-in's.
    user._state.fields_cache.pop("platform_role", None)
    return changes


def external_user(*, source: str, issuer: str, subject: str) -> Any | None:
    identity = ExternalIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
    return None if identity is None else identity.user


@audited_action("tenancy.directory.user_create", target=("username",), params=("source", "issuer"))
def external_user_create(
    *, source: str, issuer: str, subject: str, username: str, email: str = "", first_name: str = "", last_name: str = ""
) -> Any:
    """A new user for a directory account, under `username` or, when a local user has that name, a numbered
    variant: an existing user is never taken over. The user has no usable password."""
    _check_source(source)
    users = get_user_model()
    base = (username or subject)[:140]
    candidate, number = base, 1
    while users.objects.filter(username=candidate).exists():
        number += 1
        candidate = f"{base}-{number}"
    with transaction.atomic():
        user = users(username=candidate, email=email, first_name=first_name[:150], last_name=last_name[:150])
        user.set_unusable_password()
        user.save()
        ExternalIdentity.objects.create(user=user, source=source, issuer=issuer, subject=subject)
    return user
