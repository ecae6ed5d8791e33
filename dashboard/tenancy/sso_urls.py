from django.urls import path

from dashboard.tenancy import sso_views

urlpatterns = [
    path("login/", sso_views.OidcStartView.as_view(), name="oidc-login"),
    path("callback/", sso_views.OidcCallbackView.as_view(), name="oidc-callback"),
]
