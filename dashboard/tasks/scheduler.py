"""Recurring work: jobs registered in code with `@periodic`, started as background tasks by the
scheduler (`manage.py berth_scheduler`) when due, and run by the workers like any other task.

The schedule lives in the database (ScheduledJob): a run is claimed by moving `next_run` forward
with a compare-and-set update, so even two schedulers (a rollout overlapping the old pod) start each
run once; and a run still going when the next one is due is joined, not doubled (see task_start).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError
from django.utils import timezone

from dashboard.tasks.models import BackgroundTask, ScheduledJob
from dashboard.tasks.services import task_body, task_start


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta
    description: str


_periodic: dict[str, Periodic] = {}


def periodic(name: str, *, every: Callable[[], timedelta], description: str, audit_runs: bool = True) -> Callable:
    """Register a module-level function (taking `progress`) as a job run every `every()` (a callable, so
    the interval can come from settings read after import)."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        task_body(name, audit_runs=audit_runs)(function)
        _periodic[name] = Periodic(name, every(), description)
        return function

    return register


def periodic_jobs() -> dict[str, Periodic]:
    return dict(_periodic)


def scheduler_tick(*, now: datetime | None = None) -> list[BackgroundTask]:
    """Start every job that is due; answer the tasks started (or joined)."""
    now = now or timezone.now()
    started = []
    for job in _periodic.values():
        row = _schedule_row(job, now)
        if row.next_run > now:
            continue
        claimed = ScheduledJob.objects.filter(name=job.name, next_run=row.next_run).update(
            next_run=now + job.every, every_seconds=int(job.every.total_seconds())
        )
        if not claimed:  # another scheduler took this run
            continue
        task = task_start(actor=None, name=job.name, target={"job": job.name}, arguments={})
        ScheduledJob.objects.filter(name=job.name).update(last_run=now, last_task=task)
        started.append(task)
    return started


def _schedule_row(job: Periodic, now: datetime) -> ScheduledJob:
    try:
        row, _ = ScheduledJob.objects.get_or_create(
            name=job.name, defaults={"every_seconds": int(job.every.total_seconds()), "next_run": now}
        )
    except IntegrityError:  # created by another scheduler just now
        row = ScheduledJob.objects.get(name=job.name)
    return row


def schedule_list() -> list[tuple[Periodic, ScheduledJob | None]]:
    rows = {row.name: row for row in ScheduledJob.objects.select_related("last_task")}
    return [(job, rows.get(job.name)) for job in sorted(_periodic.values(), key=lambda job: job.name)]
