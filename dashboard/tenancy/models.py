from django.conf import settings
from django.db import models


class Tenant(models.Model):
    """An application team. Its members see and change only the storage and secrets bound to it."""

    name = models.CharField(max_length=100, unique=True)
    # The slug names the tenant in URLs and audit events; Ceph keys are named after their binding's key id.
    slug = models.SlugField(max_length=48, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        # Created as dashboard's models; the tables kept their names when the tenancy app took them over.
        db_table = "dashboard_tenant"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    VIEWER, OPERATOR, ADMIN = "viewer", "operator", "admin"
    ROLES = [
        (VIEWER, "viewer: read"),
        (OPERATOR, "operator: create, resize, snapshot, clone, secrets"),
        (ADMIN, "admin: also delete, purge and manage members"),
    ]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tenant_memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=ROLES, default=VIEWER)

    class Meta:
        db_table = "dashboard_membership"
        ordering = ["tenant__name", "user__username"]
        constraints = [models.UniqueConstraint(fields=["user", "tenant"], name="one_membership_per_user_and_tenant")]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} ({self.role})"
