from django.http import HttpRequest

from registry.services.notifications import notification_banner_count


def notifications(request: HttpRequest) -> dict[str, int]:
    """How many notifications the banner announces (tenant admins and platform admins; nobody else gets any)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notification_count": notification_banner_count(actor=user)}
