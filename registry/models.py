from django.db import models

from dashboard.core.clusters import ClusterRecord
from dashboard.tenancy.reservations import QuotaLedger, Reservation


class KubeCluster(ClusterRecord):
    """How Berth reaches one Kubernetes API server: a kubeconfig file and a context in it.
    The credentials stay in the kubeconfig file; the database holds only its path."""

    kubeconfig_path = models.CharField(max_length=1024)
    context = models.CharField(
        max_length=253, blank=True, help_text="Context in the kubeconfig; its current context when empty."
    )

    class Meta(ClusterRecord.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_kube_cluster"
            ),
        ]


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
