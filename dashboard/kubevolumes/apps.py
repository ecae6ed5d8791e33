from django.apps import AppConfig


class KubeVolumesConfig(AppConfig):
    name = "dashboard.kubevolumes"
    label = "kubevolumes"
    verbose_name = "Kubernetes volumes"

    def ready(self) -> None:
        from dashboard.kubevolumes.users import kube_image_users
        from dashboard.kubevolumes.views import tenant_panel_context
        from dashboard.tenancy.panels import register_tenant_panel
        from storage.services.image_users import register_image_users

        register_tenant_panel(template="kubevolumes/_tenant_panel.html", context=tenant_panel_context)
        register_image_users(kube_image_users)
