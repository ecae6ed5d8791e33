"""Storage pages under a tenant's address (/tenants/<slug>/...), next to the tenancy app's own."""

from django.urls import path

from storage import tenant_views

urlpatterns = [
    path("quota-preview/", tenant_views.quota_preview, name="tenant-quota-preview"),
    path("<slug:slug>/quota/", tenant_views.TenantQuotaView.as_view(), name="tenant-quota"),
    path("<slug:slug>/bindings/add/", tenant_views.TenantBindView.as_view(), name="tenant-bind"),
    path(
        "<slug:slug>/bindings/<int:binding_id>/unbind/", tenant_views.TenantUnbindView.as_view(), name="tenant-unbind"
    ),
    path("<slug:slug>/bindings/<int:binding_id>/key/", tenant_views.tenant_key_create, name="tenant-key-create"),
    path("<slug:slug>/bindings/<int:binding_id>/key/revoke/", tenant_views.tenant_key_revoke, name="tenant-key-revoke"),
]
