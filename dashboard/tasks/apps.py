from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "dashboard.tasks"
    label = "tasks"
    verbose_name = "Background tasks"
