from django import template
from django.utils.html import format_html

from dashboard.core.errors import BerthError
from dashboard.core.units import format_binary_size

register = template.Library()


@register.filter
def binary_size(value) -> str:
    if value in (None, ""):
        return "—"
    return format_binary_size(int(value))


@register.filter
def message_for(error: BerthError, user) -> str:
    return error.message_for(user)


@register.simple_tag
def trend_svg(points, label: str, width: int = 240, height: int = 48) -> str:
    """A small line chart of (time, value) points, drawn by the server: no script, no CDN, allowed by
    a `self`-only CSP. Screen readers get `label` with the first and last values."""
    if len(points) < 2:
        return format_html('<span class="small text-body-secondary">{}</span>', "Not enough samples yet.")
    start, end = points[0].time.timestamp(), points[-1].time.timestamp()
    top = max(point.value for point in points) or 1

    def x(point) -> float:
        return (point.time.timestamp() - start) / (end - start) * width

    def y(point) -> float:
        return height - 1 - point.value / top * (height - 2)

    coordinates = " ".join(f"{x(point):.1f},{y(point):.1f}" for point in points)
    summary = f"{label}: {format_binary_size(points[0].value)} then {format_binary_size(points[-1].value)}"
    return format_html(
        '<svg class="trend" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="{}"><title>{}</title>'
        '<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{}"/></svg>',
        width,
        height,
        width,
        height,
        summary,
        summary,
        coordinates,
    )
