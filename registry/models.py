import uuid

from django.core.exceptions import ValidationError
from django.db import models

from dashboard.core.clusters import ClusterRecord
from dashboard.tenancy.reservations import QuotaLedger, Reservation


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
