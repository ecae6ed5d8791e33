from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One change Berth made (or refused to make). Append-only."""

    OUTCOMES = [("success", "success"), ("denied", "denied"), ("failed", "failed")]
    SOURCES = [("ui", "ui"), ("api", "api"), ("admin", "admin"), ("cli", "cli"), ("task", "task")]

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    # Copied so the record still says who it was after the user is deleted; "system" for background work.
    actor_name = models.CharField(max_length=150)
    source = models.CharField(max_length=8, choices=SOURCES)
    action = models.CharField(max_length=100, db_index=True)
    target = models.JSONField(default=dict)
    parameters = models.JSONField(default=dict)
    outcome = models.CharField(max_length=8, choices=OUTCOMES, db_index=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.outcome}"

    @classmethod
    def record(cls, *, actor, tenant=None, **fields) -> "AuditEvent":
        return cls.objects.create(actor=actor, actor_name=actor.get_username() if actor else "system", **fields)
