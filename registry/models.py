import uuid

from django.core.exceptions import ValidationError
from django.db import models

from dashboard.core.clusters import ClusterRecord
from dashboard.core.errors import InvalidInput
from dashboard.tenancy.reservations import QuotaLedger, Reservation
from registry.validation import validate_namespace_list


class KubeCluster(ClusterRecord):
    """How Berth reaches one Kubernetes API server: a kubeconfig file and a context in it, or, for the
    cluster Berth itself runs in, the ServiceAccount token Kubernetes mounts into Berth's pods.
    The credentials stay in those files; the database holds only the kubeconfig's path."""

    kubeconfig_path = models.CharField(max_length=1024, blank=True)
    context = models.CharField(
        max_length=253, blank=True, help_text="Context in the kubeconfig; its current context when empty."
    )
    in_cluster = models.BooleanField(
        "this cluster",
        default=False,
        help_text="Berth runs in this cluster and uses its pods' ServiceAccount instead of a kubeconfig.",
    )

    class Meta(ClusterRecord.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_kube_cluster"
            ),
            models.CheckConstraint(
                condition=models.Q(in_cluster=True, kubeconfig_path="", context="")
                | (models.Q(in_cluster=False) & ~models.Q(kubeconfig_path="")),
                name="kube_cluster_kubeconfig_or_in_cluster",
            ),
        ]

    def clean(self):
        if self.in_cluster and (self.kubeconfig_path or self.context):
            raise ValidationError(
                "A cluster reached from inside (this cluster) has no kubeconfig: clear the kubeconfig path and context."
            )
        if not self.in_cluster and not self.kubeconfig_path:
            raise ValidationError(
                {"kubeconfig_path": "Give the kubeconfig's path, or tick 'this cluster' if Berth runs in it."}
            )


class RegistryQuota(models.Model):
    """Where a tenant may put image-pull secrets, and how many per namespace."""

    tenant = models.OneToOneField("tenancy.Tenant", on_delete=models.CASCADE, related_name="registry_quota")
    kube_cluster = models.ForeignKey(KubeCluster, on_delete=models.PROTECT, related_name="+")
    namespaces = models.JSONField(
        default=list, blank=True, help_text='Kubernetes namespaces the tenant may use, e.g. ["team-a", "team-a-ci"].'
    )
    max_pull_secrets_per_namespace = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        # Created as dashboard's model; the table kept its name when the registry app took it over.
        db_table = "dashboard_registryquota"

    def __str__(self) -> str:
        return f"registry quota of {self.tenant}"

    @property
    def namespace_list(self) -> list[str]:
        """The namespaces this quota grants. A row written past `clean` (a string, a list holding
        anything but names) grants none: a string would turn `in` into a substring test."""
        try:
            return validate_namespace_list(self.namespaces)
        except InvalidInput:
            return []

    def clean(self):
        """A list of distinct namespace names, none of them listed by another tenant on the same cluster.
        The refusal names the other tenant: only platform admins set registry quotas."""
        try:
            names = validate_namespace_list(self.namespaces)
        except InvalidInput as error:
            raise ValidationError({"namespaces": error.message}) from None
        if not self.kube_cluster_id:
            return
        others = RegistryQuota.objects.filter(kube_cluster_id=self.kube_cluster_id).select_related("tenant")
        if self.pk:
            others = others.exclude(pk=self.pk)
        for other in others.exclude(tenant_id=self.tenant_id).order_by("tenant__name"):
            shared = sorted(set(names) & set(other.namespace_list))
            if shared:
                raise ValidationError(
                    {
                        "namespaces": f"namespaces: {', '.join(shared)} on Kubernetes cluster {self.kube_cluster} "
                        f"already belong to tenant {other.tenant}; a namespace belongs to one tenant at most."
                    }
                )


class WizardPasswords(models.Model):
    """A running wizard's passwords, sealed with a key only the operator's browser holds (see
    registry/wizard.py): ciphertext, never plaintext, and only until `expires`."""

    wizard_id = models.CharField(primary_key=True, max_length=64)
    sealed = models.BinaryField()
    expires = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"sealed passwords of wizard {self.wizard_id}"


class RegistryQuotaLedger(QuotaLedger):
    """The row a tenant's pull-secret admissions lock, counting the creations that settled (see
    dashboard/tenancy/reservations.py)."""

    class Meta:
        db_table = "registry_quotaledger"

    def __str__(self) -> str:
        return f"registry quota ledger of {self.tenant}"


class PullSecretReservation(Reservation):
    """A pull secret being created, counted against the tenant's per-namespace limit until the
    creation settles (or the reservation expires); counted only while Kubernetes does not list it."""

    kube_cluster = models.ForeignKey(KubeCluster, on_delete=models.CASCADE, related_name="+")
    namespace = models.CharField(max_length=63)
    name = models.CharField(max_length=253)

    def __str__(self) -> str:
        return f"pull secret {self.namespace}/{self.name} of {self.tenant}"


# --- Managed pull secrets (registry/services/managed.py) -------------------------------------------


class ManagedPullSecret(models.Model):
    """One pull secret a tenant keeps in all its namespaces: Berth copies the dockerconfigjson of a
    source Secret (which Berth reads but never stores) into every target namespace and links it to the
    chosen service accounts, on a schedule and on demand."""

    REPORT, REPAIR = "report", "repair"
    DRIFT_POLICIES = [(REPORT, "report hand-edited copies"), (REPAIR, "repair hand-edited copies")]
    DEFAULT_ACCOUNT, ALL_ACCOUNTS, LISTED_ACCOUNTS = "default", "all", "list"
    ACCOUNT_MODES = [
        (DEFAULT_ACCOUNT, "the default service account"),
        (ALL_ACCOUNTS, "every service account"),
        (LISTED_ACCOUNTS, "the service accounts listed"),
    ]

    # The copies' label: unlike the primary key, never given to a later managed secret, which would
    # otherwise take the copies of a deleted one for its own.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="managed_pull_secrets")
    name = models.CharField(max_length=253, help_text="The name of the copy in every target namespace.")
    source_namespace = models.CharField(max_length=63)
    source_name = models.CharField(max_length=253, help_text="A kubernetes.io/dockerconfigjson Secret.")
    target_labels = models.JSONField(
        default=dict,
        blank=True,
        help_text="Only the tenant's namespaces with all these labels; empty: every namespace of its registry quota.",
    )
    accounts = models.CharField(max_length=7, choices=ACCOUNT_MODES, default=DEFAULT_ACCOUNT)
    account_names = models.JSONField(default=list, blank=True, help_text="The service accounts, when listed.")
    drift_policy = models.CharField(max_length=6, choices=DRIFT_POLICIES, default=REPORT)
    remove_departed = models.BooleanField(
        default=False, help_text="Delete the copy from a namespace that leaves the target set."
    )
    created = models.DateTimeField(auto_now_add=True)
    last_reconciled = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    states = models.JSONField(
        default=dict, blank=True, help_text="Each namespace's state at the last reconcile, to report changes once."
    )

    class Meta:
        ordering = ["tenant__slug", "name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="one_managed_pull_secret_per_name")]

    def __str__(self) -> str:
        return f"managed pull secret {self.name} of {self.tenant}"


class CredentialHealth(models.Model):
    """The last Test logins of one registry entry of one pull secret: when it last worked, when it last
    failed and why. Never the password: the check reads it from the Secret each time."""

    kube_cluster = models.ForeignKey(KubeCluster, on_delete=models.CASCADE, related_name="+")
    namespace = models.CharField(max_length=63)
    secret_name = models.CharField(max_length=253)
    registry = models.CharField(max_length=1024, help_text="The entry's key, as the Secret has it.")
    username = models.CharField(max_length=255, blank=True)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    last_checked = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=32, blank=True)
    last_success = models.DateTimeField(null=True, blank=True)
    last_failure = models.DateTimeField(null=True, blank=True)
    last_failure_reason = models.TextField(blank=True)
    expires_on = models.DateField(
        null=True, blank=True, help_text="When the credential stops working (a robot account's expiry), if known."
    )
    expiry_warned_for = models.DateField(
        null=True, blank=True, help_text="The expiry date a warning was last sent for (one warning per date)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kube_cluster", "namespace", "secret_name", "registry"], name="one_health_row_per_entry"
            )
        ]
        ordering = ["namespace", "secret_name", "registry"]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.secret_name} {self.registry}"

    @property
    def failing(self) -> bool:
        return self.last_outcome not in ("", "ok")


class Notification(models.Model):
    """Something a tenant's admins (and platform admins) should know: shown in the banner until dismissed."""

    CREDENTIAL_FAILING = "credential_failing"
    CREDENTIAL_RECOVERED = "credential_recovered"
    EXPIRY_NEAR = "expiry_near"
    DRIFT_FOUND = "drift_found"
    DRIFT_REPAIRED = "drift_repaired"
    RECONCILE_ERROR = "reconcile_error"
    KINDS = [
        (CREDENTIAL_FAILING, "credential failing"),
        (CREDENTIAL_RECOVERED, "credential works again"),
        (EXPIRY_NEAR, "expiry near"),
        (DRIFT_FOUND, "drift found"),
        (DRIFT_REPAIRED, "drift repaired"),
        (RECONCILE_ERROR, "reconcile error"),
    ]

    tenant = models.ForeignKey(
        "tenancy.Tenant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Whose; none: for platform admins only.",
    )
    kind = models.CharField(max_length=32, choices=KINDS)
    text = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    dismissed = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.text[:60]}"


class Webhook(models.Model):
    """Where notifications are also sent, as signed JSON. Set up by platform admins; the signing secret
    is kept sealed with a key derived from Berth's SECRET_KEY (see registry/services/notifications.py)."""

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=2048)
    sealed_secret = models.BinaryField()
    tenant = models.ForeignKey(
        "tenancy.Tenant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Only this tenant's notifications; every notification when empty.",
    )
    kinds = models.JSONField(default=list, blank=True, help_text="Only these kinds; every kind when empty.")
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One notification on its way to one webhook: each attempt's outcome, and when the next one is due."""

    PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=[(s, s) for s in (PENDING, DELIVERED, FAILED)], default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    attempt_log = models.JSONField(default=list, blank=True)
    next_attempt = models.DateTimeField(null=True, blank=True)
    delivered = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.notification} to {self.webhook}"
