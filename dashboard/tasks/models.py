import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.http import urlencode


class BackgroundTask(models.Model):
    """A long storage operation (flatten, copy, purge, delete) running outside the web request.

    Kept in the database so every worker process and the API see the same progress, and so a
    finished task can still be looked up after the request that started it is long gone.
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

    class Meta:
        # Created as dashboard's model; the table kept its name when the tasks app took it over.
        db_table = "dashboard_backgroundtask"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} {self.status} {self.progress}%"

    @property
    def is_finished(self) -> bool:
        return self.status not in self.ACTIVE

    def progress_page_url(self, *, next_url: str) -> str:
        """The page that follows this task; `next_url` is where it leads once the task has finished."""
        return f"{reverse('task-status', args=[self.id])}?{urlencode({'next': next_url})}"
