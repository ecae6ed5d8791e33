"""Tenancy rules, written once and called by every feature app's services: who belongs to which
tenant with which role, how a refusal looks, and how a quota limit is checked and explained. The
feature apps say which places a tenant owns (storage/services/tenancy.py, registry/services/tenancy.py).

Platform admins (superusers, and users a superuser gave the platform admin role; being Django staff
is not enough) see every tenant and place. Auditors read the audit log and change nothing: in a
tenant they are members of they act as viewers whatever their membership says. Anyone else sees
only the places bound to tenants they are members of; asking for anything else answers exactly like asking for
something that does not exist (404, code "tenant_denied", the same words whether it exists or
not), and the attempt is recorded as denied in the audit log.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from dashboard.audit.services import audit_tenant, audited_action, inside_recording, record_event
from dashboard.core.actors import Actor, signed_in
from dashboard.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, QuotaExceeded
from dashboard.core.units import format_binary_size
from dashboard.tenancy.models import MANUAL, Membership, PlatformRole, Tenant

VIEWER, OPERATOR, ADMIN = Membership.VIEWER, Membership.OPERATOR, Membership.ADMIN
_RANK = {VIEWER: 1, OPERATOR: 2, ADMIN: 3}
# A tenant's slug: what <slug:> in the URLs accepts, lower case, within the column's 48 characters.
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,47}")


def platform_role(actor: Actor | None) -> str | None:
    """The actor's role above the tenants: PLATFORM_ADMIN, AUDITOR or None. Active superusers are
    platform admins whatever their row says (Django grants them every permission anyway)."""
    if not (signed_in(actor) and actor.is_active):
        return None
    if getattr(actor, "is_superuser", False):
        return PlatformRole.PLATFORM_ADMIN
    try:
        # Django caches the related row (or its absence) on the user object: one query per request.
        return str(actor.platform_role.role)
    except PlatformRole.DoesNotExist:
        return None


def is_platform_admin(actor: Actor | None) -> bool:
    return platform_role(actor) == PlatformRole.PLATFORM_ADMIN


def is_auditor(actor: Actor | None) -> bool:
    return platform_role(actor) == PlatformRole.AUDITOR


def reads_all_activity(actor: Actor | None) -> bool:
    """Platform admins and auditors read every tenant's Activity."""
    return platform_role(actor) is not None


def administered_tenant_slugs(actor: Actor) -> list[str]:
    """The tenants the actor is an admin of (their Activity is the actor's to read)."""
    if not signed_in(actor):
        return []
    return list(Membership.objects.filter(user=actor, role=ADMIN).values_list("tenant__slug", flat=True))


def tenants_for(actor: Actor) -> QuerySet[Tenant]:
    if is_platform_admin(actor):
        return Tenant.objects.all()
    if not signed_in(actor):
        return Tenant.objects.none()
    return Tenant.objects.filter(memberships__user=actor).distinct()


def role_in(actor: Actor, tenant: Tenant) -> str | None:
    """The actor's role in the tenant; platform admins act as the tenant's admins, auditors as viewers
    of the tenants they are members of (an auditor changes nothing, whatever a tenant admin granted)."""
    if is_platform_admin(actor):
        return ADMIN
    if not signed_in(actor):
        return None
    held = Membership.objects.filter(user=actor, tenant=tenant).values_list("role", flat=True).first()
    return VIEWER if held is not None and is_auditor(actor) else held


def deny_access(actor: Actor, what: str, target: dict[str, Any]) -> NotFound:
    """The refusal for a place outside the actor's tenants, worded as for a place that does not exist."""
    error = NotFound(f"{what} does not exist, or is not one of your tenants'.", code="tenant_denied")
    # Inside an audited change the change's own event records the refusal; a read has no event of its own.
    if not inside_recording():
        record_event(
            actor=actor, action="tenancy.access", target=target, parameters={}, outcome="denied", error=error.message
        )
    return error


def require_role(actor: Actor, tenant: Tenant, role: str) -> None:
    """Members below `role` get 403 (they may know the tenant exists); non-members get 404."""
    held = role_in(actor, tenant)
    if held is None:
        raise deny_access(actor, f"Tenant {tenant.slug}", {"tenant": tenant.slug})
    require_rank(tenant, held, role)


def require_rank(tenant: Tenant, held: str, role: str) -> None:
    """For a caller that already looked up the member's role (`held`): 403 when it is below `role`."""
    if _RANK[held] < _RANK[role]:
        raise PermissionDenied(
            f"This needs the {role} role in tenant {tenant.slug}; you are {held}. Ask one of the tenant's admins.",
            code="role_denied",
        )


def require_platform_admin(actor: Actor, what: str) -> None:
    if not is_platform_admin(actor):
        raise PermissionDenied(f"Only platform admins may {what}.", code="role_denied")


# --- Quotas ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LimitCheck:
    name: str
    label: str
    used: int
    limit: int | None
    adds: int
    is_bytes: bool = False
    # A limit on each single item (e.g. one image's size) rather than on a total.
    per_item: bool = False

    @property
    def would_be(self) -> int:
        return self.used + self.adds

    @property
    def excess(self) -> int:
        return 0 if self.limit is None else max(0, self.would_be - self.limit)

    def show(self, value: int) -> str:
        return format_binary_size(value) if self.is_bytes else str(value)


def quota_error(tenant: Tenant, check: LimitCheck) -> QuotaExceeded:
    # Only a check that failed is explained, and a check without a limit never fails.
    assert check.limit is not None
    if check.per_item:
        message = (
            f"Tenant {tenant.slug} allows {check.label} of at most {check.show(check.limit)}; this one would be "
            f"{check.show(check.would_be)}, {check.show(check.excess)} over the limit."
        )
    else:
        message = (
            f"Tenant {tenant.slug} would exceed its {check.label} quota: {check.show(check.used)} in use "
            f"+ {check.show(check.adds)} requested = {check.show(check.would_be)}, limit "
            f"{check.show(check.limit)} ({check.show(check.excess)} over). Free some up or ask a platform "
            "admin to raise the limit."
        )
    return QuotaExceeded(
        message,
        extra={
            "limit": check.name,
            "used": check.used,
            "requested": check.adds,
            "maximum": check.limit,
            "excess": check.excess,
        },
    )


# --- Tenants and members -------------------------------------------------------------------------


def tenant_get(*, actor: Actor, slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None or role_in(actor, tenant) is None:
        raise deny_access(actor, f"Tenant {slug}", {"tenant": slug})
    return tenant


@audited_action("tenancy.membership.set", target=("tenant", "username"), params=("role",))
def membership_set(*, actor: Actor, tenant: Tenant, username: str, role: str) -> Membership:
    require_role(actor, tenant, ADMIN)
    if role not in _RANK:
        raise InvalidInput(f"role: must be one of {', '.join(_RANK)}.", code="invalid_role", extra={"field": "role"})
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise InvalidInput(f"username: no active user {username}.", code="unknown_user", extra={"field": "username"})
    # Set by hand: a directory's sign-in sync leaves it alone from now on (docs/sso.md).
    membership, _ = Membership.objects.update_or_create(
        user=user, tenant=tenant, defaults={"role": role, "source": MANUAL}
    )
    return membership


@audited_action("tenancy.membership.remove", target=("tenant", "username"))
def membership_remove(*, actor: Actor, tenant: Tenant, username: str) -> None:
    require_role(actor, tenant, ADMIN)
    removed, _ = Membership.objects.filter(tenant=tenant, user__username=username).delete()
    if not removed:
        raise NotFound(f"{username} is not a member of tenant {tenant.slug}.", code="membership_not_found")


# --- Creating, editing and deleting tenants (platform admins) ---------------------------------

# Paths under /tenants/ that a tenant's slug would shadow.
RESERVED_SLUGS = frozenset({"create", "quota-preview"})


def _tenant_fields(*, name: str, description: str, tenant: Tenant | None = None) -> tuple[str, str]:
    name, description = name.strip(), description.strip()
    if not name:
        raise InvalidInput("name: must not be empty.", code="invalid_name", extra={"field": "name"})
    if len(name) > Tenant._meta.get_field("name").max_length:  # type: ignore[operator]
        raise InvalidInput("name: must be at most 100 characters.", code="invalid_name", extra={"field": "name"})
    others = Tenant.objects.filter(name=name)
    clash = (others.exclude(pk=tenant.pk) if tenant is not None else others).first()
    if clash is not None:
        raise Conflict(
            f"name: tenant {clash.slug} is already called {name}.", code="tenant_exists", extra={"field": "name"}
        )
    return name, description


@audited_action("tenancy.tenant.create", target=("slug",), params=("name",))
def tenant_create(*, actor: Actor, name: str, slug: str, description: str = "") -> Tenant:
    require_platform_admin(actor, "create tenants")
    if not SLUG.fullmatch(slug or ""):
        raise InvalidInput(
            "slug: lower-case letters, digits and hyphens, starting with a letter or digit, at most 48 characters.",
            code="invalid_slug",
            extra={"field": "slug"},
        )
    if slug in RESERVED_SLUGS:
        raise InvalidInput(
            f"slug: {slug} names a page under /tenants/; choose another.", code="invalid_slug", extra={"field": "slug"}
        )
    name, description = _tenant_fields(name=name, description=description)
    if Tenant.objects.filter(slug=slug).exists():
        raise Conflict(f"slug: a tenant {slug} exists already.", code="tenant_exists", extra={"field": "slug"})
    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(name=name, slug=slug, description=description)
    except IntegrityError:
        # Created by someone else between the check and the insert.
        raise Conflict(
            f"slug: a tenant {slug} exists already.", code="tenant_exists", extra={"field": "slug"}
        ) from None
    audit_tenant(tenant)
    return tenant


@audited_action("tenancy.tenant.update", target=("tenant",), params=("name",))
def tenant_update(*, actor: Actor, tenant: Tenant, name: str, description: str) -> Tenant:
    """The slug stays: it names the tenant in URLs, API clients and the audit log."""
    require_platform_admin(actor, "edit tenants")
    tenant.name, tenant.description = _tenant_fields(name=name, description=description, tenant=tenant)
    tenant.save(update_fields=["name", "description"])
    return tenant


@dataclass(frozen=True)
class TenantHoldings:
    """A feature app's part in deleting a tenant, registered in its AppConfig.ready (the core cannot
    import the apps): `left(tenant)` says what the tenant still owns there that deleting it would
    abandon, each with what to do about it (empty: nothing); `release(actor, tenant)` undoes, outside
    the database, what the tenant's rows stand for (its Ceph keys) and raises a BerthError to refuse."""

    left: Callable[[Tenant], list[str]]
    release: Callable[[Actor, Tenant], None] | None = None


_holdings: list[TenantHoldings] = []


def register_tenant_holdings(
    *, left: Callable[[Tenant], list[str]], release: Callable[[Actor, Tenant], None] | None = None
) -> None:
    _holdings.append(TenantHoldings(left, release))


def refuse_while_owning(tenant: Tenant) -> None:
    """Conflict `tenant_not_empty` while a feature app says the tenant still owns something there
    (also asked by the Django admin before it deletes a tenant)."""
    left = [what for holdings in _holdings for what in holdings.left(tenant)]
    if left:
        raise Conflict(
            f"Tenant {tenant.slug} is left as it is: it still owns {'; '.join(left)}.",
            code="tenant_not_empty",
        )


@audited_action("tenancy.tenant.delete", target=("tenant",))
def tenant_delete(*, actor: Actor, tenant: Tenant, confirm_name: str) -> None:
    """Refused while the tenant owns images or pull secrets: deleting it would leave them to nobody,
    still holding data (and credentials) no tenant's quota or members account for."""
    require_platform_admin(actor, "delete tenants")
    if confirm_name != tenant.slug:
        raise InvalidInput(
            f"confirm_name: type the tenant's slug {tenant.slug!r} exactly to confirm; this cannot be undone.",
            code="confirmation_mismatch",
            extra={"field": "confirm_name"},
        )
    refuse_while_owning(tenant)
    for holdings in _holdings:
        if holdings.release is not None:
            holdings.release(actor, tenant)
    tenant.delete()
