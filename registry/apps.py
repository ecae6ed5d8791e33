from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry pull secrets"

    def ready(self) -> None:
        from registry import (
            checks,  # noqa: F401 (registers the checks)
            wizard,  # noqa: F401 (registers the job dropping expired wizard passwords)
        )

        # Importing them registers the reconcile task, the periodic health check and the webhook delivery task.
        from registry.services import credential_health, managed, notifications  # noqa: F401
