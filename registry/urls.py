from django.urls import path

from registry import managed_views, views

app_name = "registry"

secret = "secrets/<str:namespace>/<str:name>/"
managed = "managed/<str:tenant>/<str:name>/"

urlpatterns = [
    path("", views.SecretListView.as_view(), name="secret-list"),
    path(secret, views.SecretDetailView.as_view(), name="secret-detail"),
    path(f"{secret}rotate/", views.SecretRotateView.as_view(), name="secret-rotate"),
    path(f"{secret}entries/add/", views.SecretAddEntryView.as_view(), name="secret-add-entry"),
    path(f"{secret}entries/remove/", views.SecretRemoveEntryView.as_view(), name="secret-remove-entry"),
    path(f"{secret}link/", views.SecretLinkView.as_view(), name="secret-link"),
    path(f"{secret}unlink/<str:account>/", views.SecretUnlinkView.as_view(), name="secret-unlink"),
    path(f"{secret}check/", views.SecretHealthCheckView.as_view(), name="secret-health-check"),
    path(f"{secret}delete/", views.SecretDeleteView.as_view(), name="secret-delete"),
    path("doctor/", views.PullDoctorView.as_view(), name="doctor"),
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path(
        "notifications/<int:notification_id>/dismiss/",
        views.NotificationDismissView.as_view(),
        name="notification-dismiss",
    ),
    path("webhooks/", views.WebhookListView.as_view(), name="webhook-list"),
    path("webhooks/new/", views.WebhookCreateView.as_view(), name="webhook-create"),
    path("webhooks/<slug:name>/deliveries/", views.WebhookDetailView.as_view(), name="webhook-detail"),
    path("webhooks/<slug:name>/delete/", views.WebhookDeleteView.as_view(), name="webhook-delete"),
    path("wizard/", views.wizard_start, name="wizard-start"),
    path("wizard/test-login/", views.wizard_test_login, name="wizard-test-login"),
    path("wizard/check-name/", views.wizard_check_name, name="wizard-check-name"),
    path("wizard/node-config/", views.wizard_node_config, name="wizard-node-config"),
    path("wizard/target/", views.WizardTargetView.as_view(), name="wizard-target"),
    path("wizard/credentials/", views.WizardCredentialsView.as_view(), name="wizard-credentials"),
    path("wizard/options/", views.WizardOptionsView.as_view(), name="wizard-options"),
    path("wizard/review/", views.WizardReviewView.as_view(), name="wizard-review"),
    path("wizard/result/", views.WizardResultView.as_view(), name="wizard-result"),
    path("managed/", managed_views.ManagedSecretListView.as_view(), name="managed-list"),
    path("managed/new/", managed_views.ManagedSecretCreateView.as_view(), name="managed-create"),
    path(managed, managed_views.ManagedSecretDetailView.as_view(), name="managed-detail"),
    path(f"{managed}fleet/", managed_views.ManagedSecretFleetView.as_view(), name="managed-fleet"),
    path(f"{managed}edit/", managed_views.ManagedSecretEditView.as_view(), name="managed-edit"),
    path(f"{managed}delete/", managed_views.ManagedSecretDeleteView.as_view(), name="managed-delete"),
    path(f"{managed}repair/", managed_views.ManagedSecretRepairView.as_view(), name="managed-repair"),
    path(f"{managed}rotate/", managed_views.ManagedSecretRotateView.as_view(), name="managed-rotate"),
    path(f"{managed}adopt/<str:namespace>/", managed_views.ManagedSecretAdoptView.as_view(), name="managed-adopt"),
]
