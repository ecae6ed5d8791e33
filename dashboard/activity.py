"""The Activity page: the audit log as tenants see it. In the project package because it joins two
core apps (audit events, filtered by tenancy), and the audit app sits below tenancy."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.audit.models import AuditEvent
from dashboard.core.actors import Actor, signed_in
from dashboard.core.errors import BerthError, PermissionDenied
from dashboard.core.generic.views import htmx_partial, render_error
from dashboard.tenancy.models import Membership
from dashboard.tenancy.services import ADMIN, administered_tenant_slugs, reads_all_activity

ACTIVITY_PAGE_SIZE = 50


class ActivityFilterForm(forms.Form):
    action = forms.CharField(
        required=False,
        label="Action (starts with)",
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "storage.image"}),
    )
    outcome = forms.ChoiceField(
        required=False,
        choices=[("", "any outcome"), *AuditEvent.OUTCOMES],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    source = forms.ChoiceField(
        required=False,
        choices=[("", "any source"), *AuditEvent.SOURCES],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    actor = forms.CharField(
        required=False,
        label="Actor",
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "username"}),
    )
    tenant = forms.CharField(
        required=False,
        label="Tenant",
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "tenant slug"}),
    )


def activity_events_visible_to(*, actor, filters: dict):
    """Platform admins and auditors see every event; a tenant's admins see the events recorded for that
    tenant; anyone else is refused (403: what a tenant changed is its admins' business) and told whom to ask."""
    events = AuditEvent.objects.order_by("-id")
    if not reads_all_activity(actor):
        administered = administered_tenant_slugs(actor)
        if not administered:
            raise PermissionDenied(_who_grants_activity(actor), code="role_denied")
        events = events.filter(tenant_slug__in=administered)
    if filters.get("action"):
        events = events.filter(action__startswith=filters["action"])
    if filters.get("outcome"):
        events = events.filter(outcome=filters["outcome"])
    if filters.get("source"):
        events = events.filter(source=filters["source"])
    if filters.get("actor"):
        events = events.filter(actor_name__iexact=filters["actor"])
    if filters.get("tenant"):
        events = events.filter(tenant_slug=filters["tenant"])
    return events


def _who_grants_activity(actor: Actor) -> str:
    admins: dict[str, list[str]] = {}
    fellow_admins = (
        Membership.objects.filter(tenant__memberships__user=actor, role=ADMIN)
        if signed_in(actor)
        else Membership.objects.none()
    )
    for slug, username in fellow_admins.order_by("tenant__slug", "user__username").values_list(
        "tenant__slug", "user__username"
    ):
        admins.setdefault(slug, []).append(username)
    asked = "; ".join(f"tenant {slug}: {', '.join(names)}" for slug, names in admins.items())
    return "Activity is for tenant admins and platform admins: it shows every change made in a tenant. " + (
        f"To see your tenant's, ask one of its admins to make you an admin ({asked})."
        if asked
        else "Ask a platform admin if you need it."
    )


@login_required
@require_GET
def activity(request):
    form = ActivityFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    try:
        events = activity_events_visible_to(actor=request.user, filters=filters)
    except BerthError as error:
        return render_error(request, error, title="Activity")
    page = Paginator(events, ACTIVITY_PAGE_SIZE).get_page(request.GET.get("page"))
    # Back to a pushed filter URL that htmx no longer has cached needs the whole page, not the table.
    template = "audit/_activity_table.html" if htmx_partial(request) else "audit/activity.html"
    return render(request, template, {"form": form, "page": page})
