from django.urls import path

from dashboard.tasks import views

urlpatterns = [
    path("schedules/", views.schedule_list, name="schedule-list"),
    path("<uuid:task_id>/", views.task_status, name="task-status"),
]
