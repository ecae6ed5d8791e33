from django.apps import AppConfig


class StorageConfig(AppConfig):
    name = "storage"
    verbose_name = "Ceph block storage"

    def ready(self) -> None:
        from dashboard.tenancy.panels import register_tenant_panel

        # Importing the services registers their background task bodies, which workers look up by name.
        from storage.services import images, snapshots  # noqa: F401
        from storage.tenant_views import tenant_panel_context

        register_tenant_panel(template="storage/_tenant_panel.html", context=tenant_panel_context)
