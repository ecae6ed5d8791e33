from django.contrib import admin
from django.http import HttpRequest

from dashboard.audit.admin import AuditedModelAdmin
from dashboard.core.errors import BerthError
from dashboard.tenancy.admin import TenantAdmin
from dashboard.tenancy.models import Tenant
from storage.models import CephCluster, StorageBinding, StorageQuota
from storage.services.quotas import tenant_pool_quotas_apply


@admin.register(CephCluster)
class CephClusterAdmin(AuditedModelAdmin, admin.ModelAdmin):
    list_display = ("name", "client_name", "conf_path", "mon_host", "is_default")
    fieldsets = (
        (None, {"fields": ("name", "client_name", "is_default")}),
        ("ceph.conf and keyring", {"fields": ("conf_path", "keyring_path")}),
        ("or monitor host and key file", {"fields": ("mon_host", "key_path")}),
    )


class StorageBindingInline(admin.TabularInline):
    model = StorageBinding
    extra = 0


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


TenantAdmin.inlines = (*TenantAdmin.inlines, StorageBindingInline, StorageQuotaInline)
TenantAdmin.after_save.append(_apply_pool_quotas)
