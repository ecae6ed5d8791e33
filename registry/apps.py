from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry pull secrets"

    def ready(self) -> None:
        from dashboard.tenancy.panels import register_tenant_panel
        from dashboard.tenancy.services import register_tenant_holdings
        from registry import (
            checks,  # noqa: F401 (registers the checks)
            wizard,  # noqa: F401 (registers the job dropping expired wizard passwords)
        )

        # Importing them registers the reconcile task, the periodic health check and the webhook delivery task.
        from registry.services import credential_health, managed, notifications  # noqa: F401
        from registry.services.registry_quota import tenant_registry_left
        from registry.tenant_views import tenant_panel_context

        register_tenant_panel(template="registry/_tenant_panel.html", context=tenant_panel_context)
        register_tenant_holdings(left=tenant_registry_left)
