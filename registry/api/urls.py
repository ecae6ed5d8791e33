from django.urls import path

from registry.api import managed, views

# Included under /api/v1/registry/ in the "api" namespace.
_secret = "namespaces/<str:namespace>/secrets/<str:name>/"
_managed = "tenants/<str:tenant>/managed-secrets/<str:name>/"
urlpatterns = [
    path("namespaces/", views.NamespaceListApi.as_view(), name="registry-namespace-list"),
    path(
        "namespaces/<str:namespace>/service-accounts/",
        views.ServiceAccountListApi.as_view(),
        name="registry-service-account-list",
    ),
    path("namespaces/<str:namespace>/secrets/", views.SecretListApi.as_view(), name="registry-secret-list"),
    path("secrets/", views.SecretBulkCreateApi.as_view(), name="registry-secret-bulk-create"),
    path(_secret, views.SecretDetailApi.as_view(), name="registry-secret-detail"),
    path(f"{_secret}rotate/", views.SecretRotateApi.as_view(), name="registry-secret-rotate"),
    path(f"{_secret}entries/", views.SecretEntriesApi.as_view(), name="registry-secret-entries"),
    path(f"{_secret}link/", views.SecretLinkApi.as_view(), name="registry-secret-link"),
    path(f"{_secret}unlink/", views.SecretUnlinkApi.as_view(), name="registry-secret-unlink"),
    path("namespaces/<str:namespace>/doctor/", views.DoctorApi.as_view(), name="registry-doctor"),
    path("namespaces/<str:namespace>/doctor/image/", views.DoctorImageApi.as_view(), name="registry-doctor-image"),
    path("namespaces/<str:namespace>/pull-check/", views.PullCheckApi.as_view(), name="registry-pull-check"),
    path("test-login/", views.TestLoginApi.as_view(), name="registry-test-login"),
    path(
        "tenants/<str:tenant>/managed-secrets/",
        managed.ManagedSecretListApi.as_view(),
        name="registry-managed-secret-list",
    ),
    path(_managed, managed.ManagedSecretDetailApi.as_view(), name="registry-managed-secret-detail"),
    path(f"{_managed}state/", managed.ManagedSecretStateApi.as_view(), name="registry-managed-secret-state"),
    path(f"{_managed}repair/", managed.ManagedSecretRepairApi.as_view(), name="registry-managed-secret-repair"),
    path(f"{_managed}adopt/", managed.ManagedSecretAdoptApi.as_view(), name="registry-managed-secret-adopt"),
    path(f"{_managed}rotate/", managed.ManagedSecretRotateApi.as_view(), name="registry-managed-secret-rotate"),
    path("node-config/", views.NodeConfigApi.as_view(), name="registry-node-config"),
    path("notifications/", views.NotificationListApi.as_view(), name="registry-notification-list"),
    path(
        "notifications/<str:notification_id>/dismiss/",
        views.NotificationDismissApi.as_view(),
        name="registry-notification-dismiss",
    ),
    path("webhooks/", views.WebhookListApi.as_view(), name="registry-webhook-list"),
    path("webhooks/<str:webhook>/", views.WebhookDetailApi.as_view(), name="registry-webhook-detail"),
    path("credential-health/", views.CredentialHealthListApi.as_view(), name="registry-credential-health"),
    path(
        "namespaces/<str:namespace>/credential-health/",
        views.NamespaceCredentialHealthApi.as_view(),
        name="registry-namespace-credential-health",
    ),
    path(f"{_secret}health/", views.CredentialCheckApi.as_view(), name="registry-credential-check"),
    path(f"{_secret}expiry/", views.CredentialExpiryApi.as_view(), name="registry-credential-expiry"),
]
