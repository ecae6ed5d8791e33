"""The "Use in Kubernetes" pages: a binding's ceph-csi objects (from the tenant page), and an image as a
static volume (from the image page)."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from dashboard.core.errors import BerthError, NotFound
from dashboard.core.generic.views import render_error
from dashboard.kubevolumes import forms
from dashboard.kubevolumes import services as kubevolumes
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Tenant
from registry.models import RegistryQuota
from storage.models import StorageBinding
from storage.selectors import ceph_cluster_get
from storage.services.csi import KERNEL_RULE


def tenant_panel_context(request: HttpRequest, tenant: Tenant, role: str) -> dict[str, Any]:
    quota = RegistryQuota.objects.filter(tenant=tenant).select_related("kube_cluster").first()
    return {
        "is_tenant_admin": role == tenancy.ADMIN,
        "is_platform_admin": tenancy.is_platform_admin(request.user),
        "kube_cluster": quota.kube_cluster if quota else None,
        "bindings": list(tenant.storage_bindings.select_related("cluster").exclude(namespace="")),
    }


def _binding(request: HttpRequest, slug: str, binding_id: int) -> StorageBinding:
    tenant = tenancy.tenant_get(actor=request.user, slug=slug)
    binding = tenant.storage_bindings.select_related("cluster", "tenant").filter(pk=binding_id).first()
    if binding is None:
        raise NotFound(f"Tenant {slug} has no storage binding {binding_id}.", code="binding_not_found")
    return binding


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def binding_kube_use(request: HttpRequest, slug: str, binding_id: int) -> HttpResponse:
    """GET: the objects as they would be written. POST: write them; a key minted here is in this one
    response (the written Secret, or the YAML to apply) and nowhere else."""
    title = "Use in Kubernetes"
    try:
        binding = _binding(request, slug, binding_id)
        form = forms.BindingSetupForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            use = kubevolumes.binding_kube_setup(actor=request.user, binding=binding, **form.cleaned_data)
        else:
            use = kubevolumes.binding_kube_preview(actor=request.user, binding=binding)
    except BerthError as error:
        return render_error(request, error, title=title)
    return render(
        request,
        "kubevolumes/binding_use.html",
        {"title": f"{title}: {binding}", "binding": binding, "tenant": binding.tenant, "form": form, "use": use,
         "written": form.is_bound and form.is_valid()},
    )  # fmt: skip


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def image_kube_volume(request: HttpRequest, pool: str, name: str) -> HttpResponse:
    """GET: the form, with what would stop a volume. POST: create the PersistentVolume and its claim."""
    title = f"Use image {name} in Kubernetes"
    namespace = request.GET.get("namespace", "")
    cluster_name = request.GET.get("cluster", "")
    volume = None
    try:
        cluster = ceph_cluster_get(actor=request.user, name=cluster_name or None)
        options = kubevolumes.image_kube_volume_options(
            actor=request.user, cluster=cluster, pool=pool, namespace=namespace, name=name
        )
        form = forms.ImageVolumeForm(request.POST or None, namespaces=options.kube_namespaces)
        if form.is_bound and form.is_valid():
            try:
                volume = kubevolumes.image_kube_volume_create(
                    actor=request.user, cluster=cluster, pool=pool, namespace=namespace, name=name, **form.cleaned_data
                )
            except BerthError as error:
                if error.http_status >= 500:
                    raise
                field = error.extra.get("field")
                form.add_error(field if field in form.fields else None, error.message)
    except BerthError as error:
        return render_error(request, error, title=title)
    query = urlencode({key: value for key, value in (("cluster", cluster_name), ("namespace", namespace)) if value})
    image_url = reverse("storage:image-detail", args=[pool, name]) + (f"?{query}" if query else "")
    context = {"title": title, "options": options, "form": form, "volume": volume, "image_url": image_url}
    return render(request, "kubevolumes/image_volume.html", {**context, "rule": KERNEL_RULE})


@login_required
@require_http_methods(["GET"])
def stranded_volumes(request: HttpRequest) -> HttpResponse:
    title = "Kubernetes volumes whose image is gone"
    try:
        found = kubevolumes.kube_volumes_stranded(actor=request.user)
    except BerthError as error:
        return render_error(request, error, title=title)
    return render(request, "kubevolumes/stranded.html", {"title": title, "found": found})
