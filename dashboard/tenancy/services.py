"""Tenancy rules, written once and called by every feature app's services: who belongs to which
tenant with which role, how a refusal looks, and how a quota limit is checked and explained. The
feature apps say which places a tenant owns (storage/services/tenancy.py, registry/services/tenancy.py).

Platform admins (Django staff) see every tenant and place. Anyone else sees only the places bound
to tenants they are members of; asking for anything else answers exactly like asking for
something that does not exist (404, code "tenant_denied", the same words whether it exists or
not), and the attempt is recorded as denied in the audit log.
"""

import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from dashboard.audit.services import audited_action, inside_recording, record_event
from dashboard.core.actors import Actor, signed_in
from dashboard.core.errors import InvalidInput, NotFound, PermissionDenied, QuotaExceeded
from dashboard.core.units import format_binary_size
from dashboard.tenancy.models import Membership, Tenant

VIEWER, OPERATOR, ADMIN = Membership.VIEWER, Membership.OPERATOR, Membership.ADMIN
_RANK = {VIEWER: 1, OPERATOR: 2, ADMIN: 3}


def is_platform_admin(actor: Actor | None) -> bool:
    return bool(getattr(actor, "is_staff", False) and getattr(actor, "is_active", False))


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
    """The actor's role in the tenant; platform admins act as the tenant's admins."""
    if is_platform_admin(actor):
        return ADMIN
    if not signed_in(actor):
        return None
    return Membership.objects.filter(user=actor, tenant=tenant).values_list("role", flat=True).first()


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


# In-process locks as well as the row lock: SQLite (the embedded default) ignores SELECT ... FOR UPDATE,
# and a single Berth process is exactly the deployment that runs on SQLite.
_process_locks: dict[int, threading.Lock] = defaultdict(threading.Lock)
_process_locks_guard = threading.Lock()


def tenant_lock(tenant: Tenant) -> threading.Lock:
    """Held around every quota check and the change it guards, for storage and registry alike."""
    with _process_locks_guard:
        return _process_locks[tenant.pk]


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
    membership, _ = Membership.objects.update_or_create(user=user, tenant=tenant, defaults={"role": role})
    return membership


@audited_action("tenancy.membership.remove", target=("tenant", "username"))
def membership_remove(*, actor: Actor, tenant: Tenant, username: str) -> None:
    require_role(actor, tenant, ADMIN)
    removed, _ = Membership.objects.filter(tenant=tenant, user__username=username).delete()
    if not removed:
        raise NotFound(f"{username} is not a member of tenant {tenant.slug}.", code="membership_not_found")
