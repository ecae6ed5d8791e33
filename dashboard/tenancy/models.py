import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


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
        (OPERATOR, "operator: create, grow, snapshot, clone, secrets"),
        (ADMIN, "admin: also shrink, roll back, delete, purge and manage members"),
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


class PlatformRole(models.Model):
    """A role above the tenants, granted by a superuser (see docs/roles.md).

    A model rather than a Django group: groups carry Django permissions and anyone allowed to change
    users or groups in the admin could join one or rename it, whereas this table's admin is open to
    superusers only; and one row per user means nobody is platform admin and auditor at once.
    Active superusers are platform admins without a row.
    """

    PLATFORM_ADMIN, AUDITOR = "platform_admin", "auditor"
    ROLES = [
        (PLATFORM_ADMIN, "platform admin: acts as admin in every tenant, manages pools and quotas"),
        (AUDITOR, "auditor: reads and exports the audit log and every tenant's Activity; changes nothing"),
    ]

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="platform_role")
    role = models.CharField(max_length=20, choices=ROLES)
    granted = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display().split(':')[0]})"


class ApiToken(models.Model):
    """An API token of one user. Only the SHA-256 of the key is kept: the key is shown once, when it
    is made, and a key of 256 random bits needs no slow hash to stay unguessable from its digest."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The key's first characters, so that its owner can tell tokens apart; far too few to use it.
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField()
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user__username", "-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"

    @property
    def is_expired(self) -> bool:
        return self.expires <= timezone.now()
