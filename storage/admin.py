from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from dashboard.audit.admin import AuditedModelAdmin
from dashboard.core.actors import Actor
from dashboard.core.errors import BerthError
from dashboard.tenancy.admin import TenantAdmin
from dashboard.tenancy.models import Tenant
from storage.models import CephCluster, StorageBinding, StorageQuota
from storage.services.quotas import tenant_pool_quotas_apply
from storage.services.tenant_bindings import storage_binding_create, storage_binding_delete
from storage.services.tenant_keys import binding_has_keys, binding_keys_revoke


@admin.register(CephCluster)
class CephClusterAdmin(AuditedModelAdmin, admin.ModelAdmin):
    list_display = ("name", "client_name", "conf_path", "mon_host", "is_default")
    fieldsets = (
        (None, {"fields": ("name", "client_name", "is_default", "purge_expired_trash")}),
        ("ceph.conf and keyring", {"fields": ("conf_path", "keyring_path")}),
        ("or monitor host and key file", {"fields": ("mon_host", "key_path")}),
    )


def _revoke_keys(actor, binding: StorageBinding) -> None:
    if binding_has_keys(binding):
        binding_keys_revoke(actor=actor, binding=binding)


class StorageBindingFormSet(BaseInlineFormSet):
    """Bindings made and removed here go through the same services as Berth's tenant pages: a new RBD
    namespace is created, and a place that still holds images is not unbound (keeping them is offered on
    the tenant's page). A binding's Ceph keys are revoked before it is removed or moved to another place.
    A BerthError refuses the whole save (TenantAdmin shows it) and nothing changes."""

    actor: Actor  # the admin user, set per request by StorageBindingInline.get_formset

    def save_new(self, form, commit=True):
        if not commit:
            return super().save_new(form, commit=commit)
        return storage_binding_create(
            actor=self.actor,
            tenant=self.instance,
            cluster=form.cleaned_data["cluster"],
            pool=form.cleaned_data["pool"],
            namespace=form.cleaned_data["namespace"],
        )

    def delete_existing(self, obj, commit=True):
        if commit:
            storage_binding_delete(actor=self.actor, binding=obj, keep_images=False)

    def save_existing(self, form, obj, commit=True):
        if commit and {"cluster", "pool", "namespace"} & set(form.changed_data):
            _revoke_keys(self.actor, StorageBinding.objects.get(pk=obj.pk))
        return super().save_existing(form, obj, commit=commit)


class StorageBindingInline(admin.TabularInline):
    model = StorageBinding
    formset = StorageBindingFormSet
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # A class made for this request by inlineformset_factory, so the attribute is this request's alone.
        setattr(formset, "actor", request.user)  # noqa: B010 (the stubs' formset type has no such attribute)
        return formset


class StorageQuotaInline(admin.StackedInline):
    model = StorageQuota
    can_delete = False


def _apply_pool_quotas(request: HttpRequest, tenant: Tenant) -> str | None:
    # Ceph's own pool quota backs up Berth's check for whole pools a tenant owns.
    try:
        tenant_pool_quotas_apply(actor=request.user, tenant=tenant)
    except BerthError as error:
        return f"Saved, but the Ceph pool quota could not be set: {error.message}"
    return None


def _revoke_tenant_keys(request: HttpRequest, tenant: Tenant) -> None:
    for binding in tenant.storage_bindings.select_related("cluster", "tenant"):
        _revoke_keys(request.user, binding)


TenantAdmin.inlines = (*TenantAdmin.inlines, StorageBindingInline, StorageQuotaInline)
TenantAdmin.after_save.append(_apply_pool_quotas)
TenantAdmin.before_delete.append(_revoke_tenant_keys)
