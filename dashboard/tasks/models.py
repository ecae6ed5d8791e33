import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.http import urlencode


class BackgroundTask(models.Model):
    """Work that outlasts a web request (flatten, copy, purge, delete, Berth's own periodic jobs).

    The one record of a task's state and progress: every web process, worker and the API read it
    here, and a finished task can still be looked up after the request that started it is gone. The
    queue itself is django-tasks' (its database backend); this row says what the task is about.
    """

    QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
    STATUSES = [(QUEUED, QUEUED), (RUNNING, RUNNING), (SUCCEEDED, SUCCEEDED), (FAILED, FAILED)]
    ACTIVE = (QUEUED, RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, db_index=True, help_text="The action, e.g. storage.image.flatten")
    target = models.JSONField(default=dict)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The tenant whose storage the task changes: its members may follow it, its events carry it.
    tenant = models.ForeignKey("tenancy.Tenant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=STATUSES, default=QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done, 0 to 100")
    message = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    # What the body is called with: JSON only (cluster name, pool, image...), so any worker on any host can run it.
    arguments = models.JSONField(default=dict)
    # Identical work (same name and target) runs once: a second request joins the active task. The
    # constraint below makes that hold across processes and hosts, not just within one.
    target_key = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    queue_id = models.UUIDField(null=True, blank=True, help_text="Its run in django-tasks' queue")
    worker = models.CharField(max_length=255, blank=True, help_text="The worker running (or last running) it")
    heartbeat = models.DateTimeField(null=True, blank=True, help_text="Last sign of life from its worker")

    class Meta:
        # Created as dashboard's model; the table kept its name when the tasks app took it over.
        db_table = "dashboard_backgroundtask"
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "target_key"],
                condition=models.Q(status__in=("queued", "running")),
                name="one_active_task_per_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.status} {self.progress}%"

    @property
    def is_finished(self) -> bool:
        return self.status not in self.ACTIVE

    def progress_page_url(self, *, next_url: str) -> str:
        """The page that follows this task; `next_url` is where it leads once the task has finished."""
        return f"{reverse('task-status', args=[self.id])}?{urlencode({'next': next_url})}"


class ScheduledJob(models.Model):
    """A periodic job and when it runs next. Its body is registered in code (`@periodic`); this row is
    what every scheduler process shares, so two schedulers never start the same run twice."""

    name = models.CharField(primary_key=True, max_length=100)
    every_seconds = models.PositiveIntegerField()
    next_run = models.DateTimeField()
    last_run = models.DateTimeField(null=True, blank=True)
    last_task = models.ForeignKey(BackgroundTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} every {self.every_seconds} s"
