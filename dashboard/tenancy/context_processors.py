from dashboard.tenancy.services import administered_tenant_slugs, is_platform_admin


def navigation(request) -> dict:
    """Which pages the navigation bar offers: the Activity page exists for platform admins and for
    admins of a tenant; the others are offered to everyone signed in (their services scope them)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    platform_admin = is_platform_admin(user)
    return {
        "show_activity": platform_admin or bool(administered_tenant_slugs(user)),
        "show_schedules": platform_admin,
    }
