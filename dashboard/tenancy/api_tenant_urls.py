from django.urls import path

from dashboard.tenancy import api

# Included under /api/v1/tenants/ in the "api" namespace.
urlpatterns = [
    path("", api.TenantListApi.as_view(), name="tenant-list"),
    path("<slug:slug>/", api.TenantDetailApi.as_view(), name="tenant-detail"),
]
