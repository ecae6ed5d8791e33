from django.urls import path

from dashboard.tasks.api import views

urlpatterns = [
    path("", views.TaskListApi.as_view(), name="task-list"),
    path("<str:task_id>/", views.TaskDetailApi.as_view(), name="task-detail"),
]
