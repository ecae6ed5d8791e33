"""Tenant pages: the tenants a user belongs to, and one tenant's members, with a panel from each
feature app about what the tenant owns there (see dashboard/tenancy/panels.py); and, for platform
admins, creating, editing and deleting tenants. Every read and change goes through a service, which
enforces roles."""

from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from dashboard.core.errors import BerthError, InvalidInput
from dashboard.core.generic.forms import StyledForm
from dashboard.core.generic.views import ConfirmView, ServiceFormView, redirect_after_success, render_error
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Membership, Tenant
from dashboard.tenancy.panels import tenant_panels


@login_required
@require_GET
def tenant_list(request):
    tenants = list(tenancy.tenants_for(request.user))
    if len(tenants) == 1 and not tenancy.is_platform_admin(request.user):
        return redirect("tenant-detail", slug=tenants[0].slug)
    return render(request, "tenancy/tenant_list.html", {"title": "Tenants", "tenants": tenants})


class MemberForm(StyledForm):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Membership.ROLES)


@login_required
@require_GET
def tenant_detail(request, slug: str):
    try:
        tenant = tenancy.tenant_get(actor=request.user, slug=slug)
        role = tenancy.role_in(request.user, tenant)
        context: dict[str, Any] = {
            "title": f"Tenant {tenant.name}",
            "tenant": tenant,
            "role": role,
            "is_tenant_admin": role == tenancy.ADMIN,
            "tenants": tenancy.tenants_for(request.user),
            # tenant_get has refused anyone without a role in the tenant.
            "panels": tenant_panels(request, tenant, cast(str, role)),
            "members": tenant.memberships.select_related("user"),
            "member_form": MemberForm(),
        }
    except BerthError as error:
        return render_error(request, error, title="Tenant")
    return render(request, "tenancy/tenant_detail.html", context)


@login_required
@require_POST
def member_set(request, slug: str):
    form = MemberForm(request.POST)
    try:
        tenant = tenancy.tenant_get(actor=request.user, slug=slug)
        if not form.is_valid():
            raise InvalidInput("Give a username and a role.", code="invalid")
        tenancy.membership_set(actor=request.user, tenant=tenant, **form.cleaned_data)
    except BerthError as error:
        return render_error(request, error, title="Members")
    return redirect_after_success(request, reverse("tenant-detail", args=[slug]))


@login_required
@require_POST
def member_remove(request, slug: str, username: str):
    try:
        tenant = tenancy.tenant_get(actor=request.user, slug=slug)
        tenancy.membership_remove(actor=request.user, tenant=tenant, username=username)
    except BerthError as error:
        return render_error(request, error, title="Members")
    return redirect_after_success(request, reverse("tenant-detail", args=[slug]))


class TenantEditForm(StyledForm):
    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class TenantCreateForm(TenantEditForm):
    slug = forms.CharField(
        max_length=48,
        help_text="Names the tenant in addresses, the API and the audit log; lower-case letters, digits and "
        "hyphens. It cannot be changed later.",
    )
    field_order = ["name", "slug", "description"]


class TenantCreateView(ServiceFormView):
    form_class = TenantCreateForm
    title = "New tenant"
    submit_label = "Create tenant"

    def load(self) -> dict[str, Any]:
        tenancy.require_platform_admin(self.request.user, "create tenants")
        return {}

    def perform(self, form: forms.Form) -> Tenant:
        return tenancy.tenant_create(actor=self.request.user, **form.cleaned_data)

    def success_message(self, tenant: Tenant) -> str:
        return f"Tenant {tenant.name} created. Bind storage to it, set its quotas and add its members."

    def success_url(self, tenant: Tenant) -> str:
        return reverse("tenant-detail", args=[tenant.slug])

    def back_url(self) -> str:
        return reverse("tenant-list")


class TenantMixin:
    """The tenant named by the URL's slug, read through the service (a non-member gets 404)."""

    request: Any
    kwargs: dict[str, Any]

    def tenant(self) -> Tenant:
        return tenancy.tenant_get(actor=self.request.user, slug=self.kwargs["slug"])

    def back_url(self) -> str:
        return reverse("tenant-detail", args=[self.kwargs["slug"]])


class TenantEditView(TenantMixin, ServiceFormView):
    form_class = TenantEditForm
    submit_label = "Save"

    @property
    def title(self) -> str:
        return f"Edit tenant {self.kwargs['slug']}"

    def load(self) -> dict[str, Any]:
        tenancy.require_platform_admin(self.request.user, "edit tenants")
        return {"tenant": self.tenant()}

    def get_initial(self) -> dict[str, Any]:
        tenant = self.loaded["tenant"]
        return {"name": tenant.name, "description": tenant.description}

    def perform(self, form: forms.Form) -> Tenant:
        return tenancy.tenant_update(actor=self.request.user, tenant=self.loaded["tenant"], **form.cleaned_data)

    def success_message(self, tenant: Tenant) -> str:
        return f"Tenant {tenant.slug} saved."


class TenantDeleteView(TenantMixin, ConfirmView):
    @property
    def title(self) -> str:
        return f"Delete tenant {self.kwargs['slug']}"

    @property
    def warning(self) -> str:
        return (
            "The tenant, its members, its storage bindings (their Ceph keys are revoked) and its quotas go. "
            "This is refused while the tenant still owns images or pull secrets that Berth manages."
        )

    def typed_name(self) -> str:
        return self.kwargs["slug"]

    def load(self) -> dict[str, Any]:
        tenancy.require_platform_admin(self.request.user, "delete tenants")
        return {"tenant": self.tenant()}

    def perform(self, form: forms.Form) -> None:
        tenancy.tenant_delete(
            actor=self.request.user, tenant=self.loaded["tenant"], confirm_name=form.cleaned_data["confirm_name"]
        )

    def success_message(self, result: None) -> str:
        return f"Tenant {self.kwargs['slug']} deleted."

    def success_url(self, result: None) -> str:
        return reverse("tenant-list")
