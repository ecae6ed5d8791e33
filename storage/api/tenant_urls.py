from django.urls import path

from storage.api import tenant_views

# Included under /api/v1/tenants/ in the "api" namespace: a binding is addressed by its tenant and id.
urlpatterns = [
    path("<slug:slug>/bindings/", tenant_views.BindingListApi.as_view(), name="tenant-binding-list"),
    path(
        "<slug:slug>/bindings/<int:binding_id>/", tenant_views.BindingDetailApi.as_view(), name="tenant-binding-detail"
    ),
]
