from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "dashboard.tasks"
    label = "tasks"
    verbose_name = "Background tasks"

    def ready(self) -> None:
        # Registers the queue's own housekeeping jobs with the scheduler.
        from dashboard.tasks import jobs  # noqa: F401
