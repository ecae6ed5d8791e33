"""Tenant pages: the tenants a user belongs to, and one tenant's members, with a panel from each
feature app about what the tenant owns there (see dashboard/tenancy/panels.py). Every read and
change goes through a service, which enforces roles."""

from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from dashboard.core.errors import BerthError, InvalidInput
from dashboard.core.generic.forms import StyledForm
from dashboard.core.generic.views import redirect_after_success, render_error
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Membership
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
