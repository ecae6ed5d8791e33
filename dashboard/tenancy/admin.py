from collections.abc import Callable
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.http import HttpRequest, HttpResponseRedirect

from dashboard.audit.admin import AuditedModelAdmin
from dashboard.audit.services import recording
from dashboard.core.errors import BerthError
from dashboard.tenancy.models import (
    MANUAL,
    ApiToken,
    DirectoryRoleRule,
    ExternalIdentity,
    Membership,
    PlatformRole,
    Tenant,
)
from dashboard.tenancy.services import refuse_while_owning


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)
    # A directory's memberships follow its groups at each sign-in; one set here stays as it is.
    readonly_fields = ("source",)


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
        refuse_while_owning(obj)
        for hook in self.before_delete:
            hook(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for tenant in queryset:
            refuse_while_owning(tenant)
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
        if formset.model is Membership:
            # A membership changed by hand is kept as it is by the directory from now on.
            for inline_form in formset.forms:
                if inline_form.has_changed():
                    inline_form.instance.source = MANUAL
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


class PlatformRoleForm(forms.ModelForm):
    class Meta:
        model = PlatformRole
        fields = ("user", "role")

    def clean(self):
        cleaned = super().clean() or {}
        user = cleaned.get("user")
        if user is not None and user.is_superuser and cleaned.get("role") == PlatformRole.AUDITOR:
            # Django grants a superuser every permission before asking Berth: such an "auditor" could change anything.
            raise forms.ValidationError(
                f"{user} is a superuser, and so a platform admin; take away superuser status before making them "
                "an auditor."
            )
        return cleaned


def _superuser(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


class SuperuserOnlyAdmin(admin.ModelAdmin):
    def has_module_permission(self, request):
        return _superuser(request)

    def has_view_permission(self, request, obj=None):
        return _superuser(request)

    def has_add_permission(self, request):
        return _superuser(request)

    def has_change_permission(self, request, obj=None):
        return _superuser(request)

    def has_delete_permission(self, request, obj=None):
        return _superuser(request)


@admin.register(PlatformRole)
class PlatformRoleAdmin(AuditedModelAdmin, SuperuserOnlyAdmin):
    """Platform admins and auditors, granted and taken away by superusers only: whoever else may
    change users (a platform admin given `auth.change_user`, say) must not be able to raise anyone,
    themselves included, above the tenants."""

    form = PlatformRoleForm
    list_display = ("user", "role", "source", "granted")
    list_filter = ("role", "source")
    readonly_fields = ("source",)
    search_fields = ("user__username",)
    autocomplete_fields = ("user",)

    def save_model(self, request, obj, form, change):
        # Granted by hand: a directory no longer takes it away.
        obj.source = MANUAL
        super().save_model(request, obj, form, change)
        user = obj.user
        if obj.role == PlatformRole.AUDITOR and not user.is_staff:
            # The audit log is in the admin site, which lets in staff only.
            with recording(
                "admin.auth.user.change",
                actor=request.user,
                target={"model": user._meta.label_lower, "id": user.pk, "name": str(user)},
                parameters={"fields": ["is_staff"]},
            ):
                user.is_staff = True
                user.save(update_fields=["is_staff"])
            self.message_user(request, f"{user} is staff now, to read the audit log in the admin site.")


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedModelAdmin, admin.ModelAdmin):
    """Every user's API tokens, without their keys (Berth keeps only a hash). Tokens are made by their
    owner on the API tokens page, where the key is shown once; here they can only be revoked."""

    list_display = ("name", "user", "prefix", "created", "expires", "last_used")
    list_filter = ("expires",)
    search_fields = ("name", "user__username", "prefix")
    fields = ("name", "user", "prefix", "created", "expires", "last_used")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DirectoryRoleRule)
class DirectoryRoleRuleAdmin(AuditedModelAdmin, SuperuserOnlyAdmin):
    """Which directory group gives which role (docs/sso.md). Superusers only, as for platform roles: a rule can
    make the members of a group platform admins. Applied at each member's next sign-in."""

    list_display = ("group", "platform_role", "tenant", "tenant_role")
    list_filter = ("platform_role", "tenant_role", "tenant")
    search_fields = ("group", "tenant__name", "tenant__slug")
    autocomplete_fields = ("tenant",)


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(AuditedModelAdmin, SuperuserOnlyAdmin):
    """Which directory account signs in as which user. Made at a first sign-in; deleting a row makes the
    account's next sign-in create a new user."""

    list_display = ("subject", "issuer", "source", "user", "created")
    list_filter = ("source",)
    search_fields = ("subject", "user__username")
    readonly_fields = ("user", "source", "issuer", "subject", "created")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
