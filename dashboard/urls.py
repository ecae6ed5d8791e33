"""The root URLs: the project package composes the core apps and the feature apps."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from dashboard import activity, error_pages, health, views
from dashboard import api as overview_api
from dashboard.audit.accounts import audited_password_change
from dashboard.core.api.views import ApiDocsView, unversioned_api_gone
from dashboard.tenancy import sso_views

handler403 = error_pages.permission_denied
handler404 = error_pages.page_not_found
handler500 = error_pages.server_error

api_urlpatterns: list[URLPattern | URLResolver] = [
    path("overview/", overview_api.OverviewApi.as_view(), name="overview"),
    path("storage/", include("storage.api.urls")),
    path("registry/", include("registry.api.urls")),
    path("kubernetes/", include("dashboard.kubevolumes.api_urls")),
    path("tasks/", include("dashboard.tasks.api.urls")),
    path("tokens/", include("dashboard.tenancy.api_urls")),
    path("tenants/", include("dashboard.tenancy.api_tenant_urls")),
    path("tenants/", include("storage.api.tenant_urls")),
]

urlpatterns = [
    path("", views.overview, name="overview"),
    path("overview/health/", views.overview_health, name="overview-health"),
    path("overview/kubernetes/", views.overview_kube, name="overview-kube"),
    path("overview/usage/", views.overview_usage, name="overview-usage"),
    path("overview/activity/", views.overview_activity, name="overview-activity"),
    path("overview/tasks/", views.overview_tasks, name="overview-tasks"),
    path("storage/", include("storage.urls")),
    path("registry/", include("registry.urls")),
    path("tasks/", include("dashboard.tasks.urls")),
    path("kubernetes/", include("dashboard.kubevolumes.image_urls")),
    path("login/", sso_views.LoginView.as_view(), name="login"),
    path("logout/", sso_views.logout, name="logout"),
    path("oidc/", include("dashboard.tenancy.sso_urls")),
    path("password/", audited_password_change(auth_views.PasswordChangeView.as_view()), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("account/", include("dashboard.tenancy.account_urls")),
    path("activity/", activity.activity, name="activity"),
    # Storage's tenant pages first: "quota-preview/" would otherwise be taken for a tenant's slug.
    path("tenants/", include("storage.tenant_urls")),
    path("tenants/", include("registry.tenant_urls")),
    path("tenants/", include("dashboard.kubevolumes.urls")),
    path("tenants/", include("dashboard.tenancy.urls")),
    path("admin/", admin.site.urls),
    # A new major version goes beside v1 (api/v2/ with its own schema), so clients move when they choose.
    path("api/v1/", include((api_urlpatterns, "api"))),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^api/(?!v\d+/)(?P<rest>.*)$", unversioned_api_gone, name="api-unversioned"),
    path("api-auth/", include("rest_framework.urls")),
    # For Kubernetes' probes and Prometheus: no login, outside the API and its schema (dashboard/health.py).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
]
