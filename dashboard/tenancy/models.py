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


# Who gave a role: a person (by hand, in Berth or its admin), or a directory at sign-in (docs/sso.md). Roles from a
# directory follow its groups at every sign-in; manual ones are never changed by it.
MANUAL, OIDC, LDAP = "manual", "oidc", "ldap"
ROLE_SOURCES = [(MANUAL, "set by hand"), (OIDC, "OpenID Connect groups"), (LDAP, "LDAP groups")]
DIRECTORY_SOURCES = (OIDC, LDAP)


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
    source = models.CharField(max_length=10, choices=ROLE_SOURCES, default=MANUAL)

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
    source = models.CharField(max_length=10, choices=ROLE_SOURCES, default=MANUAL)

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display().split(':')[0]})"


class DirectoryRoleRule(models.Model):
    """A directory group that gives a role: a platform role, or a role in one tenant. Matched exactly against
    the groups an OpenID provider sends in its groups claim, or the names (cn) of a user's LDAP groups."""

    group = models.CharField(
        max_length=255, help_text="The group's name (or claim value) exactly as the directory sends it."
    )
    platform_role = models.CharField(max_length=20, choices=PlatformRole.ROLES, blank=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="directory_rules")
    tenant_role = models.CharField(max_length=10, choices=Membership.ROLES, blank=True)

    class Meta:
        ordering = ["group", "tenant__name"]
        constraints = [
            models.CheckConstraint(
                name="directory_rule_grants_one_role",
                condition=(
                    models.Q(platform_role="", tenant__isnull=False) & ~models.Q(tenant_role="")
                    | ~models.Q(platform_role="") & models.Q(tenant__isnull=True, tenant_role="")
                ),
                violation_error_message="A rule gives either a platform role, or a tenant and a role in it.",
            ),
            models.UniqueConstraint(fields=["group", "tenant"], name="one_rule_per_group_and_tenant"),
            models.UniqueConstraint(
                fields=["group"], condition=models.Q(tenant__isnull=True), name="one_platform_rule_per_group"
            ),
        ]

    def __str__(self) -> str:
        if self.tenant_id is None:
            return f"{self.group} → {self.platform_role}"
        return f"{self.group} → {self.tenant_role} of {self.tenant}"


class ExternalIdentity(models.Model):
    """The user a directory's account signs in as. Accounts are linked by the directory's own identifier
    (issuer and subject), never by a matching e-mail address or username, so that nobody who can choose
    such a name at the directory can take over a local account (the break-glass admin's, say)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_identities")
    source = models.CharField(max_length=10, choices=ROLE_SOURCES[1:])
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["issuer", "subject"]
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="one_user_per_external_identity")]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer} ({self.user})"


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
