from django import template

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
