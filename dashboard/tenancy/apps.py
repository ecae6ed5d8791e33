from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "dashboard.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from dashboard.core.errors import set_operator_audience
        from dashboard.tenancy.services import is_platform_admin

        set_operator_audience(is_platform_admin)
