from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from dashboard import views, views_activity, views_tenants
from dashboard.accounts import audited_password_change
from dashboard.api import views as api_views
from dashboard.generic import views as generic_views
from storage.api import urls as storage_api_urls

api_urlpatterns = [
    path("overview/", api_views.OverviewApi.as_view(), name="overview"),
    path("storage/", include("storage.api.urls")),
    path("registry/", include("registry.api.urls")),
    path("tasks/", include(storage_api_urls.task_urlpatterns)),
]

urlpatterns = [
    path("", views.overview, name="overview"),
    path("overview/health/", views.overview_health, name="overview-health"),
    path("storage/", include("storage.urls")),
    path("registry/", include("registry.urls")),
    path("tasks/<uuid:task_id>/", generic_views.task_status, name="task-status"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", audited_password_change(auth_views.PasswordChangeView.as_view()), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("activity/", views_activity.activity, name="activity"),
    path("tenants/", views_tenants.tenant_list, name="tenant-list"),
    path("tenants/quota-preview/", views_tenants.quota_preview, name="tenant-quota-preview"),
    path("tenants/<slug:slug>/", views_tenants.tenant_detail, name="tenant-detail"),
    path("tenants/<slug:slug>/quota/", views_tenants.TenantQuotaView.as_view(), name="tenant-quota"),
    path("tenants/<slug:slug>/members/", views_tenants.member_set, name="tenant-member-set"),
    path("tenants/<slug:slug>/members/<str:username>/remove/", views_tenants.member_remove,
         name="tenant-member-remove"),
    path("tenants/<slug:slug>/bindings/<int:binding_id>/key/", views_tenants.tenant_key_create,
         name="tenant-key-create"),
    path("tenants/<slug:slug>/bindings/<int:binding_id>/key/revoke/", views_tenants.tenant_key_revoke,
         name="tenant-key-revoke"),
    path("admin/", admin.site.urls),
    path("api/", include((api_urlpatterns, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_views.ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("api-auth/", include("rest_framework.urls")),
]
