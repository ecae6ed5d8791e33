"""Start-up checks of the registry app's settings: a mistyped network or rate must stop
`manage.py check` (and every server start) with the variable's name, not fail the first Test login."""

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def registry_login_settings(app_configs, **kwargs) -> list[Error]:
    from registry.services.registry_login import DestinationPolicy
    from registry.throttles import LoginTestThrottle

    errors = []
    try:
        DestinationPolicy.from_settings()
    except ImproperlyConfigured as error:
        errors.append(Error(str(error), id="registry.E001"))
    try:
        LoginTestThrottle().parse_rate(settings.BERTH_REGISTRY_LOGIN_RATE)
    except (ValueError, KeyError):
        errors.append(
            Error(
                f"BERTH_REGISTRY_LOGIN_RATE must be a number of requests per s, min, hour or day "
                f"(e.g. 10/min), not {settings.BERTH_REGISTRY_LOGIN_RATE!r}",
                id="registry.E002",
            )
        )
    return errors
