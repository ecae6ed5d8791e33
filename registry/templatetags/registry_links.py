from django import template

from registry import links

register = template.Library()


@register.simple_tag(takes_context=True)
def registry_url(context, name: str, *args, **params) -> str:
    """`{% registry_url "secret-detail" namespace name server=... %}`: the page's URL on the cluster
    the current page's view is about (its `cluster`)."""
    cluster = getattr(context.get("view"), "cluster", None)
    return links.registry_url(name, *args, cluster=cluster.name if cluster else "", **params)
