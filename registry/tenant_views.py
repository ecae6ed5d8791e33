"""A tenant's registry quota on its tenant page, and the platform admins' form to set it: the
Kubernetes cluster, its namespaces the tenant may use (picked from the cluster's own list) and the
pull secrets allowed per namespace. Registered as a tenant panel in RegistryConfig.ready."""

from typing import Any, cast

from django import forms
from django.http import HttpRequest
from django.urls import reverse

from dashboard.core.generic.forms import StyledForm
from dashboard.core.generic.views import ServiceFormView
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Tenant
from registry.models import KubeCluster, RegistryQuota
from registry.selectors import kube_cluster_get
from registry.services import registry_quota


def tenant_panel_context(request: HttpRequest, tenant: Tenant, role: str) -> dict[str, Any]:
    return {
        "quota": registry_quota.registry_quota_get(actor=request.user, tenant=tenant),
        "may_edit": tenancy.is_platform_admin(request.user),
    }


class RegistryQuotaForm(StyledForm):
    namespaces = forms.MultipleChoiceField(
        label="Namespaces the tenant may put pull secrets into", widget=forms.CheckboxSelectMultiple, required=False
    )
    max_pull_secrets_per_namespace = forms.IntegerField(
        label="Pull secrets per namespace", min_value=0, required=False, help_text="Empty: unlimited"
    )

    def __init__(self, *args: Any, namespaces: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["namespaces"]).choices = [(name, name) for name in namespaces]


class RegistryQuotaView(ServiceFormView):
    """The cluster comes from `?cluster=`, else the quota's, else the default one; its namespaces are
    listed from Kubernetes (503 inside the page while the API server does not answer)."""

    form_class = RegistryQuotaForm
    template_name = "registry/tenant_quota.html"
    submit_label = "Save registry quota"

    @property
    def title(self) -> str:
        return f"Registry quota of tenant {self.kwargs['slug']}"

    def load(self) -> dict[str, Any]:
        tenancy.require_platform_admin(self.request.user, "change registry quotas")
        tenant = tenancy.tenant_get(actor=self.request.user, slug=self.kwargs["slug"])
        quota = registry_quota.registry_quota_get(actor=self.request.user, tenant=tenant)
        name = self.request.GET.get("cluster") or (quota.kube_cluster.name if quota else None)
        cluster = kube_cluster_get(actor=self.request.user, name=name)
        return {
            "tenant": tenant,
            "quota": quota,
            "cluster": cluster,
            "clusters": list(KubeCluster.objects.order_by("-is_default", "name").values_list("name", flat=True)),
            "namespaces": registry_quota.registry_quota_namespace_choices(
                actor=self.request.user, tenant=tenant, cluster=cluster
            ),
        }

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"namespaces": self.loaded["namespaces"]}

    def get_initial(self) -> dict[str, Any]:
        quota = self.loaded["quota"]
        if quota is None:
            return {}
        same_cluster = quota.kube_cluster_id == self.loaded["cluster"].pk
        return {
            "namespaces": quota.namespaces if same_cluster else [],
            "max_pull_secrets_per_namespace": quota.max_pull_secrets_per_namespace,
        }

    def perform(self, form: forms.Form) -> RegistryQuota:
        return registry_quota.registry_quota_set(
            actor=self.request.user,
            tenant=self.loaded["tenant"],
            kube_cluster=self.loaded["cluster"],
            **form.cleaned_data,
        )

    def success_message(self, quota: RegistryQuota) -> str:
        return f"Registry quota of tenant {quota.tenant.slug} saved."

    def back_url(self) -> str:
        return reverse("tenant-detail", args=[self.kwargs["slug"]])
