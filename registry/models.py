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
