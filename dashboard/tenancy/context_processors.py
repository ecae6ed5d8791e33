from django.http import HttpRequest

from dashboard.tenancy.services import administered_tenant_slugs, is_auditor, is_platform_admin, reads_all_activity


def navigation(request: HttpRequest) -> dict[str, bool]:
    """Which pages and buttons the templates offer, from the user's role rather than from Django's
    `is_staff` (which only lets a user into the admin site): the Activity page for platform admins,
    auditors and admins of a tenant; the admin site for staff (to an auditor it is the audit log);
    tenant management for platform admins. The services enforce all of it; this only hides links
    that would end in a refusal."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "show_activity": reads_all_activity(user) or bool(administered_tenant_slugs(user)),
        "is_platform_admin": is_platform_admin(user),
        "show_schedules": is_platform_admin(user),
        "is_auditor": is_auditor(user),
        "uses_admin_site": user.is_active and user.is_staff,
    }
