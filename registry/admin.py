from django.contrib import admin

from dashboard.audit.admin import AuditedModelAdmin
from dashboard.tenancy.admin import TenantAdmin
from registry.models import KubeCluster, RegistryQuota


@admin.register(KubeCluster)
class KubeClusterAdmin(AuditedModelAdmin, admin.ModelAdmin):
    list_display = ("name", "in_cluster", "kubeconfig_path", "context", "is_default")


class RegistryQuotaInline(admin.StackedInline):
    model = RegistryQuota
    can_delete = False


TenantAdmin.inlines = (*TenantAdmin.inlines, RegistryQuotaInline)
