from django.urls import path

from dashboard.tasks import views

urlpatterns = [
    path("<uuid:task_id>/", views.task_status, name="task-status"),
]
