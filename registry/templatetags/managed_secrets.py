from django import template

from registry.services.managed import managed_secrets_visible

register = template.Library()


@register.simple_tag(takes_context=True)
def may_see_managed_secrets(context) -> bool:
    """For the navigation: the link shows only to those whose list would not be empty of tenants."""
    user = context.get("user")
    return user is not None and user.is_authenticated and managed_secrets_visible(actor=user)
