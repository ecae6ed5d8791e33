from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.http import HttpRequest, HttpResponseRedirect

from dashboard.audit.admin import AuditedModelAdmin
from dashboard.audit.services import recording
from dashboard.core.errors import BerthError
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
    # Feature apps add the inlines of what a tenant owns in them (storage bindings, quotas), what has to
    # follow a save outside the database, and what has to be undone outside it before a tenant goes (its
    # Ceph keys; a hook refuses by raising a BerthError) (see storage/admin.py): the core knows nothing of
    # Ceph or Kubernetes.
    inlines: ClassVar["tuple[type[InlineModelAdmin[Any, Any]], ...]"] = (MembershipInline,)
    after_save: list[Callable[[HttpRequest, Tenant], str | None]] = []
    before_delete: list[Callable[[HttpRequest, Tenant], None]] = []

    # A refusal from a feature app (a hook above, an inline's formset, a model signal) rolls the whole
    # request back, as the admin's views run in one transaction, and is shown instead of a server error.
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BerthError as error:
            return self._refused(request, error, request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except BerthError as error:
            return self._refused(request, error, request.get_full_path())

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except BerthError as error:
            return self._refused(request, error, request.get_full_path())

    def _refused(self, request, error: BerthError, url: str) -> HttpResponseRedirect:
        self.message_user(request, f"Nothing was saved or deleted. {error.message}", level=messages.ERROR)
        return HttpResponseRedirect(url)

    def delete_model(self, request, obj):
        for hook in self.before_delete:
            hook(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for tenant in queryset:
            for hook in self.before_delete:
                hook(request, tenant)
        super().delete_queryset(request, queryset)

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
