"""What a tenant owns lives in the feature apps (storage bindings, registry namespaces), which the
core must not import; each app registers a panel for the tenant page instead, in its AppConfig.ready."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from dashboard.tenancy.models import Tenant

# Called with the request, the tenant and the viewer's role in it; answers the panel template's context.
PanelContext = Callable[[HttpRequest, Tenant, str], dict[str, Any]]


@dataclass(frozen=True)
class TenantPanel:
    template: str
    context: PanelContext


_panels: list[TenantPanel] = []


def register_tenant_panel(*, template: str, context: PanelContext) -> None:
    _panels.append(TenantPanel(template, context))


def tenant_panels(request: HttpRequest, tenant: Tenant, role: str) -> list[tuple[str, dict[str, Any]]]:
    """(template, context) of every registered panel, in registration (INSTALLED_APPS) order."""
    return [(panel.template, panel.context(request, tenant, role)) for panel in _panels]
