from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from dashboard.core.errors import BerthError
from dashboard.core.generic.views import htmx_partial, render_error, safe_next_url
from dashboard.tasks.models import BackgroundTask
from dashboard.tasks.scheduler import schedule_list as schedule_list_rows
from dashboard.tasks.services import task_get
from dashboard.tenancy.services import require_platform_admin


@login_required
@require_GET
def task_status(request: HttpRequest, task_id) -> HttpResponse:
    """The task's progress: a page for a browser, a fragment for the htmx poll that refreshes it
    every second until the task has finished (the finished fragment no longer polls)."""
    try:
        task = task_get(actor=request.user, task_id=task_id)
    except BerthError as error:
        return render_error(request, error, title="Task")
    context = {
        "task": task,
        "finished": task.status not in BackgroundTask.ACTIVE,
        "next_url": safe_next_url(request, reverse("overview")),
    }
    template = "tasks/task_status.html" if htmx_partial(request) else "tasks/task_page.html"
    return render(request, template, context)


@login_required
@require_GET
def schedule_list(request: HttpRequest) -> HttpResponse:
    """Berth's periodic jobs with their next and last runs, for platform admins."""
    try:
        require_platform_admin(request.user, "see the schedules of Berth's periodic jobs")
    except BerthError as error:
        return render_error(request, error, title="Schedules")
    return render(request, "tasks/schedule_list.html", {"title": "Periodic jobs", "schedules": schedule_list_rows()})
