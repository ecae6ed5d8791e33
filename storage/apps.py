from django.apps import AppConfig


class StorageConfig(AppConfig):
    name = "storage"
    verbose_name = "Ceph block storage"

    def ready(self) -> None:
        from django.db.models.signals import pre_delete, pre_save

        from dashboard.tenancy.panels import register_tenant_panel
        from dashboard.tenancy.services import register_tenant_holdings
        from storage import signals
        from storage.models import StorageBinding

        # Importing the services registers their background task bodies, which workers look up by name.
        from storage.services import images, snapshot_schedules, snapshots, trash  # noqa: F401
        from storage.services.tenant_bindings import tenant_storage_left, tenant_storage_release
        from storage.tenant_views import tenant_panel_context

        register_tenant_panel(template="storage/_tenant_panel.html", context=tenant_panel_context)
        register_tenant_holdings(left=tenant_storage_left, release=tenant_storage_release)
        pre_delete.connect(signals.binding_pre_delete, sender=StorageBinding, dispatch_uid="storage.binding_keys")
        pre_save.connect(signals.binding_pre_save, sender=StorageBinding, dispatch_uid="storage.binding_keys")
