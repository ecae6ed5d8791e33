from django.contrib import admin

from dashboard.admin import AuditedModelAdmin

from storage.models import CephCluster


@admin.register(CephCluster)
class CephClusterAdmin(AuditedModelAdmin, admin.ModelAdmin):
    list_display = ("name", "client_name", "conf_path", "mon_host", "is_default")
    fieldsets = (
        (None, {"fields": ("name", "client_name", "is_default")}),
        ("ceph.conf and keyring", {"fields": ("conf_path", "keyring_path")}),
        ("or monitor host and key file", {"fields": ("mon_host", "key_path")}),
    )
