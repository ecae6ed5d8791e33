from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "dashboard.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from dashboard.audit import checks  # noqa: F401  (registers the audit key check)
