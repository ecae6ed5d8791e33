"""Housekeeping of the task queue itself, run by the scheduler."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dashboard.tasks.models import BackgroundTask
from dashboard.tasks.scheduler import periodic
from dashboard.tasks.services import ProgressCallback, tasks_reap_stale


@periodic(
    "tasks.reap_stale",
    every=lambda: timedelta(seconds=settings.BERTH_TASK_STALE_AFTER),
    description="Fail tasks whose worker stopped (also done by every worker; this catches it when none is idle)",
    audit_runs=False,
)
def reap_stale_tasks(*, progress: ProgressCallback) -> dict[str, Any]:
    return {"failed": [str(task.id) for task in tasks_reap_stale()]}


@periodic(
    "tasks.prune_finished",
    every=lambda: timedelta(days=1),
    description=f"Forget finished tasks older than {settings.BERTH_TASK_KEEP_DAYS} days (their audit events stay)",
)
def prune_finished_tasks(*, progress: ProgressCallback) -> dict[str, Any]:
    cutoff = timezone.now() - timedelta(days=settings.BERTH_TASK_KEEP_DAYS)
    tasks, _ = BackgroundTask.objects.exclude(status__in=BackgroundTask.ACTIVE).filter(finished__lt=cutoff).delete()
    runs, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return {"tasks": tasks, "queue_entries": runs}
