from urllib.parse import urlencode

from django import template
from django.http import HttpRequest
from django.urls import reverse

register = template.Library()


def storage_url(
    request: HttpRequest | None, url_name: str, *args: object, namespace: str = "", **params: object
) -> str:
    """A storage UI URL. The RBD namespace and the chosen cluster travel as query parameters (the
    default namespace is the empty string, which a path segment cannot carry), and the cluster the
    operator is looking at stays chosen from page to page."""
    query: dict[str, object] = {"namespace": namespace} if namespace else {}
    cluster = request.GET.get("cluster") if request is not None else None
    if cluster:
        query["cluster"] = cluster
    query.update({key: value for key, value in params.items() if value not in (None, "")})
    url = reverse(f"storage:{url_name}", args=args)
    return f"{url}?{urlencode(query)}" if query else url


@register.simple_tag(name="storage_url", takes_context=True)
def storage_url_tag(context, url_name: str, *args: object, namespace: str = "", **params: object) -> str:
    return storage_url(context.get("request"), url_name, *args, namespace=namespace, **params)
