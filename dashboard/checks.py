"""Start-up checks of the project package's settings: a mistyped network must stop `manage.py check` (and
every server start) with the variable's name, not refuse every scrape later."""

from typing import Any

from django.core.checks import Error, register


@register()
def metrics_settings(app_configs: Any, **kwargs: Any) -> list[Error]:
    from dashboard.health import allowed_networks

    try:
        allowed_networks()
    except ValueError as error:
        return [
            Error(
                f"BERTH_METRICS_ALLOWED_NETWORKS must list CIDR networks, e.g. 10.0.0.0/8: {error}", id="dashboard.E001"
            )
        ]
    return []
