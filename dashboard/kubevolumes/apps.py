from django.apps import AppConfig


class KubeVolumesConfig(AppConfig):
    name = "dashboard.kubevolumes"
    label = "kubevolumes"
    verbose_name = "Kubernetes volumes"

    def ready(self) -> None:
        from dashboard.kubevolumes.views import tenant_panel_context
        from dashboard.tenancy.panels import register_tenant_panel

        register_tenant_panel(template="kubevolumes/_tenant_panel.html", context=tenant_panel_context)
