from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.models import AuditEvent

ACTIVITY_PAGE_SIZE = 50


class ActivityFilterForm(forms.Form):
    action = forms.CharField(required=False, label="Action (starts with)",
                             widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "storage.image"}))
    outcome = forms.ChoiceField(required=False, choices=[("", "any outcome"), *AuditEvent.OUTCOMES],
                                widget=forms.Select(attrs={"class": "form-select"}))
    source = forms.ChoiceField(required=False, choices=[("", "any source"), *AuditEvent.SOURCES],
                               widget=forms.Select(attrs={"class": "form-select"}))
    actor = forms.CharField(required=False, label="Actor",
                            widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "username"}))


def activity_events_visible_to(*, actor, filters: dict):
    """Staff see every event. Tenant admins will see their tenant's events once tenancy exists."""
    if not actor.is_staff:
        raise PermissionDenied
    events = AuditEvent.objects.order_by("-id")
    if filters.get("action"):
        events = events.filter(action__startswith=filters["action"])
    if filters.get("outcome"):
        events = events.filter(outcome=filters["outcome"])
    if filters.get("source"):
        events = events.filter(source=filters["source"])
    if filters.get("actor"):
        events = events.filter(actor_name__iexact=filters["actor"])
    return events


@login_required
@require_GET
def activity(request):
    form = ActivityFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    events = activity_events_visible_to(actor=request.user, filters=filters)
    page = Paginator(events, ACTIVITY_PAGE_SIZE).get_page(request.GET.get("page"))
    template = "dashboard/_activity_table.html" if request.htmx else "dashboard/activity.html"
    return render(request, template, {"form": form, "page": page})
