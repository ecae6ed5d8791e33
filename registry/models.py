from django.db import models


class KubeCluster(models.Model):
    """How Berth reaches one Kubernetes API server: a kubeconfig file and a context in it.
    The credentials stay in the kubeconfig file; the database holds only its path."""

    name = models.SlugField(max_length=64, unique=True)
    kubeconfig_path = models.CharField(max_length=1024)
    context = models.CharField(max_length=253, blank=True,
                               help_text="Context in the kubeconfig; its current context when empty.")
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True),
                                    name="one_default_kube_cluster"),
        ]

    def __str__(self) -> str:
        return self.name
