"""URLs between the pull-secret pages that stay on the Kubernetes cluster being looked at.

Each page is about one cluster, named by `?cluster=`; a link that dropped it would lead to the
namespace of the same name on the default cluster, or to nothing. So views and templates (via
the `registry_url` tag in registry/templatetags/registry_links.py) build their links here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse


def registry_url(name: str, *args: Any, cluster: str = "", **params: Any) -> str:
    """`registry:<name>` with `args`, on `cluster`; empty parameters are left out."""
    query = {key: value for key, value in {"cluster": cluster, **params}.items() if value}
    return reverse(f"registry:{name}", args=args) + (f"?{urlencode(query)}" if query else "")
