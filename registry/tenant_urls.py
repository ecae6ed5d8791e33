"""Registry pages under a tenant's address (/tenants/<slug>/...), next to the tenancy app's own."""

from django.urls import path

from registry import tenant_views

urlpatterns = [
    path("<slug:slug>/registry-quota/", tenant_views.RegistryQuotaView.as_view(), name="tenant-registry-quota"),
]
