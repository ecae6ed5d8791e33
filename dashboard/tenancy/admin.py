from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.http import HttpRequest

from dashboard.audit.admin import AuditedModelAdmin
from dashboard.audit.services import recording
from dashboard.tenancy.models import Membership, Tenant


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Tenant)
class TenantAdmin(AuditedModelAdmin, admin.ModelAdmin):
    list_display = ("name", "slug", "description")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    # Feature apps add the inlines of what a tenant owns in them (storage bindings, quotas) and what has to
    # follow a save outside the database (see storage/admin.py): the core knows nothing of Ceph or Kubernetes.
    inlines: ClassVar["tuple[type[InlineModelAdmin[Any, Any]], ...]"] = (MembershipInline,)
    after_save: list[Callable[[HttpRequest, Tenant], str | None]] = []

    def save_formset(self, request, form, formset, change):
        """Inline rows (members, bindings, quotas) are changes too: one event per formset that changed."""
        touched = formset.has_changed() or bool(getattr(formset, "deleted_forms", []))
        if not touched:
            return super().save_formset(request, form, formset, change)
        model = formset.model._meta
        changed = sorted({name for inline_form in formset.forms for name in inline_form.changed_data})
        with recording(
            f"admin.{model.app_label}.{model.model_name}.change",
            actor=request.user,
            target={"model": model.label_lower, "tenant": form.instance.slug},
            parameters={"fields": changed},
            tenant=form.instance,
        ):
            super().save_formset(request, form, formset, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        for follow_up in self.after_save:
            warning = follow_up(request, form.instance)
            if warning:
                self.message_user(request, warning, level="warning")
