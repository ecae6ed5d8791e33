from django.contrib import admin

from registry.models import KubeCluster


@admin.register(KubeCluster)
class KubeClusterAdmin(admin.ModelAdmin):
    list_display = ("name", "kubeconfig_path", "context", "is_default")
