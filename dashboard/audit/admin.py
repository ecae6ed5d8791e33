import json
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.urls import path
from django.utils.html import format_html
from django.views.decorators.http import require_GET

from dashboard.audit.accounts import audited_password_change
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import events_as_csv, events_as_jsonl, recording

# A mixin for ModelAdmins: the type checker sees its base, at run time it is a plain class.
if TYPE_CHECKING:
    _ModelAdminBase = admin.ModelAdmin[Any]
else:
    _ModelAdminBase = object


class AuditedModelAdmin(_ModelAdminBase):
    """Mix into a ModelAdmin so every add, change and delete made through the Django admin is
    recorded as `admin.<app>.<model>.create|change|delete`.

    Only the names of changed fields are recorded, never their values: an admin form may hold a
    password or a key path, and names are enough to say what was touched.
    """

    def audit_action(self, verb: str) -> str:
        return f"admin.{self.opts.app_label}.{self.opts.model_name}.{verb}"

    def audit_target(self, obj) -> dict:
        """How the event names the object; override when the primary key or name is secret."""
        return {"model": self.opts.label_lower, "id": obj.pk, "name": str(obj)}

    def save_model(self, request, obj, form, change):
        with recording(
            self.audit_action("change" if change else "create"),
            actor=request.user,
            target={"model": self.opts.label_lower},
            parameters={"fields": sorted(form.changed_data)},
        ) as entry:
            super().save_model(request, obj, form, change)
            entry.target = self.audit_target(obj)

    def delete_model(self, request, obj):
        with recording(self.audit_action("delete"), actor=request.user, target=self.audit_target(obj)):
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        objects = [self.audit_target(obj) for obj in queryset]
        with recording(
            self.audit_action("delete"),
            actor=request.user,
            target={"model": self.opts.label_lower, "objects": objects},
            parameters={"count": len(objects)},
        ):
            super().delete_queryset(request, queryset)


def _audited(model_admin_class: type) -> type:
    return type(f"Audited{model_admin_class.__name__}", (AuditedModelAdmin, model_admin_class), {})


class AuditedUserAdmin(AuditedModelAdmin, UserAdmin):
    def user_change_password(self, request, id, form_url=""):
        return audited_password_change(super().user_change_password)(request, id=id, form_url=form_url)


class SecretKeyedAdmin(AuditedModelAdmin):
    """For models whose primary key or string form is itself a secret (DRF's API tokens)."""

    def audit_target(self, obj) -> dict:
        return {"model": self.opts.label_lower, "user": obj.user.get_username()}


# Apps listed before Berth's in INSTALLED_APPS (auth, DRF's tokens, axes) have registered their
# admins already; re-register them audited, so nothing changes through the admin unrecorded.
for _model, _model_admin in list(admin.site._registry.items()):
    if isinstance(_model_admin, AuditedModelAdmin):
        continue
    admin.site.unregister(_model)
    if _model is User:
        admin.site.register(_model, AuditedUserAdmin)
    elif _model._meta.label_lower == "authtoken.tokenproxy":
        admin.site.register(_model, type("AuditedTokenAdmin", (SecretKeyedAdmin, type(_model_admin)), {}))
    else:
        admin.site.register(_model, _audited(type(_model_admin)))

# Replacing the bound method on the one site instance is how the admin's own password form gets recorded.
admin.site.password_change = audited_password_change(admin.site.password_change)  # type: ignore[method-assign]


def _pretty_json(value) -> str:
    return format_html('<pre class="audit-json">{}</pre>', json.dumps(value, indent=2, sort_keys=True))


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log, read-only for everyone: events are written by Berth, never by hand."""

    change_list_template = "admin/audit/auditevent/change_list.html"
    list_display = (
        "time",
        "actor_name",
        "tenant_slug",
        "source",
        "action",
        "target_summary",
        "outcome",
        "duration_ms",
        "client_ip",
    )
    list_filter = ("outcome", "source", "action", "tenant_slug", "actor_name")
    date_hierarchy = "time"
    search_fields = ("action", "actor_name", "target", "request_id", "error")
    fields = (
        "time",
        "actor_name",
        "actor",
        "tenant_slug",
        "source",
        "action",
        "pretty_target",
        "pretty_parameters",
        "outcome",
        "error",
        "duration_ms",
        "client_ip",
        "request_id",
        "prev_hash",
        "hash",
    )
    readonly_fields = fields
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="target")
    def target_summary(self, event):
        return " / ".join(str(value) for value in event.target.values() if not isinstance(value, (list, dict)))

    @admin.display(description="target")
    def pretty_target(self, event):
        return _pretty_json(event.target)

    @admin.display(description="parameters")
    def pretty_parameters(self, event):
        return _pretty_json(event.parameters)

    def get_urls(self):
        export = self.admin_site.admin_view(require_GET(self.export_view))
        return [
            path("export.csv", export, {"fmt": "csv"}, name="audit_auditevent_export_csv"),
            path("export.jsonl", export, {"fmt": "jsonl"}, name="audit_auditevent_export_jsonl"),
            *super().get_urls(),
        ]

    def export_view(self, request, fmt: str):
        """The change list's current selection (filters, search, dates), streamed in full."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        events = self.get_changelist_instance(request).get_queryset(request).order_by("id").iterator(chunk_size=500)
        if fmt == "csv":
            response = StreamingHttpResponse(events_as_csv(events), content_type="text/csv; charset=utf-8")
        else:
            response = StreamingHttpResponse(events_as_jsonl(events), content_type="application/jsonl; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="berth-audit.{fmt}"'
        return response
