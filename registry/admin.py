from django.contrib import admin

from dashboard.admin import AuditedModelAdmin

from registry.models import KubeCluster


@admin.register(KubeCluster)
class KubeClusterAdmin(AuditedModelAdmin, admin.ModelAdmin):
    list_display = ("name", "kubeconfig_path", "context", "is_default")
