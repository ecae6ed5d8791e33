from django.urls import path

from registry import views

app_name = "registry"
admin = views.platform_admins_only

secret = "secrets/<str:namespace>/<str:name>/"

urlpatterns = [
    path("", admin(views.SecretListView.as_view()), name="secret-list"),
    path(secret, admin(views.SecretDetailView.as_view()), name="secret-detail"),
    path(f"{secret}rotate/", admin(views.SecretRotateView.as_view()), name="secret-rotate"),
    path(f"{secret}entries/add/", admin(views.SecretAddEntryView.as_view()), name="secret-add-entry"),
    path(f"{secret}entries/remove/", admin(views.SecretRemoveEntryView.as_view()), name="secret-remove-entry"),
    path(f"{secret}link/", admin(views.SecretLinkView.as_view()), name="secret-link"),
    path(f"{secret}unlink/<str:account>/", admin(views.SecretUnlinkView.as_view()), name="secret-unlink"),
    path(f"{secret}delete/", admin(views.SecretDeleteView.as_view()), name="secret-delete"),
    path("doctor/", admin(views.PullDoctorView.as_view()), name="doctor"),
    path("wizard/", admin(views.wizard_start), name="wizard-start"),
    path("wizard/test-login/", admin(views.wizard_test_login), name="wizard-test-login"),
    path("wizard/check-name/", admin(views.wizard_check_name), name="wizard-check-name"),
    path("wizard/target/", admin(views.WizardTargetView.as_view()), name="wizard-target"),
    path("wizard/credentials/", admin(views.WizardCredentialsView.as_view()), name="wizard-credentials"),
    path("wizard/options/", admin(views.WizardOptionsView.as_view()), name="wizard-options"),
    path("wizard/review/", admin(views.WizardReviewView.as_view()), name="wizard-review"),
    path("wizard/result/", admin(views.WizardResultView.as_view()), name="wizard-result"),
]
