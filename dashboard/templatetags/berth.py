from django import template

from dashboard.core.units import format_binary_size

register = template.Library()


@register.filter
def binary_size(value) -> str:
    if value in (None, ""):
        return "—"
    return format_binary_size(int(value))
