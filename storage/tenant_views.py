"""A tenant's storage on its tenant page: usage against its quota, the places it owns, its Ceph
keys; and the platform admins' forms: storage quota, binding a pool or an RBD namespace, unbinding.
Registered as a tenant panel in StorageConfig.ready."""

from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from dashboard.core.errors import BerthError, NotFound
from dashboard.core.generic.forms import StyledForm, checked
from dashboard.core.generic.views import ConfirmView, ServiceFormView, redirect_after_success, render_error
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Tenant
from storage.forms import SizeFieldsMixin, size_fields
from storage.models import StorageBinding, StorageQuota
from storage.selectors import ceph_cluster_get, ceph_cluster_names
from storage.services import pools, tenant_bindings, tenant_keys, usage, usage_history
from storage.services import quotas as storage_quotas
from storage.services import tenancy as storage_tenancy
from storage.validation import validate_namespace


def tenant_panel_context(request: HttpRequest, tenant: Tenant, role: str) -> dict[str, Any]:
    is_tenant_admin = role == tenancy.ADMIN
    rows = storage_quotas.tenant_usage_rows(actor=request.user, tenant=tenant)
    return {
        "usage": rows,
        "provisioned": next(row.used for row in rows if row.is_bytes),
        "measured": usage.tenant_used_sampled(actor=request.user, tenant=tenant),
        "bindings": [
            (
                binding,
                not binding.is_whole_pool
                and is_tenant_admin
                and tenant_keys.tenant_key_exists(actor=request.user, binding=binding),
            )
            for binding in tenant.storage_bindings.select_related("cluster")
        ],
        "is_tenant_admin": is_tenant_admin,
        "may_edit_quota": tenancy.is_platform_admin(request.user),
        "may_bind": tenancy.is_platform_admin(request.user),
        "trend": usage_history.tenant_trend(actor=request.user, tenant=tenant),
    }


def _binding(request, slug: str, binding_id: int):
    tenant = tenancy.tenant_get(actor=request.user, slug=slug)
    binding = tenant.storage_bindings.select_related("cluster", "tenant").filter(pk=binding_id).first()
    if binding is None:
        raise NotFound(f"Tenant {slug} has no storage binding {binding_id}.", code="binding_not_found")
    return binding


@never_cache
@login_required
@require_POST
def tenant_key_create(request, slug: str, binding_id: int):
    """The key is in this one response and nowhere else: not in the database, log or audit event."""
    try:
        binding = _binding(request, slug, binding_id)
        entity, key = tenant_keys.tenant_key_create(actor=request.user, binding=binding)
    except BerthError as error:
        return render_error(request, error, title="Ceph key")
    return render(
        request,
        "storage/tenant_key.html",
        {
            "title": f"Ceph key for {binding}",
            "binding": binding,
            "entity": entity,
            "key": key,
            "tenant": binding.tenant,
        },
    )


@login_required
@require_POST
def tenant_key_revoke(request, slug: str, binding_id: int):
    try:
        tenant_keys.tenant_key_revoke(actor=request.user, binding=_binding(request, slug, binding_id))
    except BerthError as error:
        return render_error(request, error, title="Ceph key")
    return redirect_after_success(request, reverse("tenant-detail", args=[slug]))


class QuotaForm(StyledForm):
    max_images = forms.IntegerField(min_value=0, required=False, help_text="Empty: unlimited")
    max_provisioned_gib = forms.IntegerField(
        label="Max provisioned GiB", min_value=0, required=False, help_text="Sum of image sizes; empty: unlimited"
    )
    max_image_gib = forms.IntegerField(label="Max GiB per image", min_value=0, required=False)
    max_snapshots = forms.IntegerField(min_value=0, required=False)


class TenantQuotaView(ServiceFormView):
    """Platform admins set a tenant's storage quota here as well as in the Django admin."""

    form_class = QuotaForm
    submit_label = "Save quota"

    @property
    def title(self) -> str:
        return f"Storage quota of tenant {self.kwargs['slug']}"

    def load(self) -> dict[str, Any]:
        tenancy.require_platform_admin(self.request.user, "change quotas")
        return {"tenant": tenancy.tenant_get(actor=self.request.user, slug=self.kwargs["slug"])}

    def get_initial(self) -> dict[str, Any]:
        quota = StorageQuota.objects.filter(tenant=self.loaded["tenant"]).first()
        return {name: getattr(quota, name) for name in QuotaForm.base_fields} if quota else {}

    def perform(self, form: forms.Form):
        return storage_quotas.storage_quota_set(
            actor=self.request.user, tenant=self.loaded["tenant"], **form.cleaned_data
        )

    def success_message(self, quota) -> str:
        return f"Quota of tenant {quota.tenant.slug} saved."

    def success_url(self, quota) -> str:
        return reverse("tenant-detail", args=[quota.tenant.slug])

    def back_url(self) -> str:
        return reverse("tenant-detail", args=[self.kwargs["slug"]])


class _PreviewSizeForm(SizeFieldsMixin, StyledForm):
    size, size_unit = size_fields("Size", "")


@login_required
@require_GET
def quota_preview(request):
    """The sentence under a create form's size field, refreshed by htmx as the size is typed."""
    form = _PreviewSizeForm(request.GET)
    try:
        cluster = ceph_cluster_get(actor=request.user, name=request.GET.get("cluster"))
        tenant = storage_tenancy.storage_scope(
            actor=request.user,
            cluster=cluster,
            pool=request.GET.get("pool", ""),
            namespace=request.GET.get("namespace", ""),
        )
        size = form.cleaned_data["size"] if form.is_valid() else 0
        text = storage_quotas.storage_quota_preview(actor=request.user, tenant=tenant, adds_bytes=size) if size else ""
    except BerthError as error:
        text = error.message
    return render(request, "storage/_quota_preview.html", {"text": text})


# --- Binding and unbinding (platform admins) ------------------------------------------------------


class BindForm(StyledForm):
    pool = forms.ChoiceField(help_text="A pool of this Ceph cluster.")
    namespace = forms.CharField(
        label="RBD namespace",
        required=False,
        help_text="Created in the pool if it does not exist yet. Empty: the whole pool.",
    )

    def __init__(self, *args: Any, pools: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["pool"]).choices = [(name, name) for name in pools]

    def clean_namespace(self) -> str:
        return checked(validate_namespace, self.cleaned_data["namespace"])


class TenantBindView(ServiceFormView):
    """The cluster comes from `?cluster=` (the default one otherwise), as on the storage pages; the
    pool is picked from that cluster's pools."""

    form_class = BindForm
    template_name = "storage/tenant_bind.html"
    submit_label = "Bind"

    @property
    def title(self) -> str:
        return f"Bind storage to tenant {self.kwargs['slug']}"

    def load(self) -> dict[str, Any]:
        tenancy.require_platform_admin(self.request.user, "bind storage to tenants")
        tenant = tenancy.tenant_get(actor=self.request.user, slug=self.kwargs["slug"])
        cluster = ceph_cluster_get(actor=self.request.user, name=self.request.GET.get("cluster"))
        listed = pools.pool_list(actor=self.request.user, cluster=cluster)
        return {
            "tenant": tenant,
            "cluster": cluster,
            "clusters": ceph_cluster_names(actor=self.request.user),
            "pools": [pool.name for pool in listed],
        }

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"pools": self.loaded["pools"]}

    def perform(self, form: forms.Form) -> StorageBinding:
        return tenant_bindings.storage_binding_create(
            actor=self.request.user, tenant=self.loaded["tenant"], cluster=self.loaded["cluster"], **form.cleaned_data
        )

    def success_message(self, binding: StorageBinding) -> str:
        return f"{binding} is bound to tenant {binding.tenant.slug}."

    def back_url(self) -> str:
        return reverse("tenant-detail", args=[self.kwargs["slug"]])


class UnbindForm(StyledForm):
    keep_images = forms.BooleanField(
        label="Keep the images (they stay in Ceph, no longer counted for the tenant)", required=False
    )


class TenantUnbindView(ConfirmView):
    submit_label = "Unbind"
    form_class = UnbindForm

    @property
    def title(self) -> str:
        return f"Unbind storage from tenant {self.kwargs['slug']}"

    @property
    def warning(self) -> str:
        binding = self.loaded["binding"]
        return (
            f"{binding} stops being tenant {binding.tenant.slug}'s: its members lose access and its Ceph keys are "
            "revoked. While it still holds images this is refused, unless you keep them."
        )

    def load(self) -> dict[str, Any]:
        tenancy.require_platform_admin(self.request.user, "unbind storage from tenants")
        return {"binding": _binding(self.request, self.kwargs["slug"], self.kwargs["binding_id"])}

    def perform(self, form: forms.Form) -> None:
        tenant_bindings.storage_binding_delete(
            actor=self.request.user, binding=self.loaded["binding"], keep_images=form.cleaned_data["keep_images"]
        )

    def success_message(self, result: None) -> str:
        return f"{self.loaded['binding']} is no longer bound to tenant {self.kwargs['slug']}."

    def back_url(self) -> str:
        return reverse("tenant-detail", args=[self.kwargs["slug"]])
