"""The sign-in and sign-out pages with single sign-on (docs/sso.md): the login page offers the provider's
button beside (or, with BERTH_LOCAL_LOGIN=false, above the break-glass) password form; the start and callback
of the code flow are mozilla-django-oidc's views reading Berth's settings; logging out of a single sign-on
session also ends the provider's session (RP-initiated logout) where the provider offers it."""

from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.generic import View
from mozilla_django_oidc import views as oidc_views

from dashboard.tenancy.oidc import LOGOUT_HINT_ATTRIBUTE, discovery, oidc_enabled, oidc_setting

OIDC_BACKEND = "dashboard.tenancy.oidc.OidcBackend"
# The ID token, which the provider's logout wants back as id_token_hint. Kept by the browser, sent to the logout
# URL only, never readable by scripts: a token from the provider is never written to Berth's database.
LOGOUT_HINT_COOKIE = "berth_sso_logout_hint"


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["sso_name"] = settings.BERTH_OIDC_PROVIDER_NAME if oidc_enabled() else ""
        context["local_login"] = settings.BERTH_LOCAL_LOGIN
        context["ldap_login"] = bool(settings.BERTH_LDAP_SERVER_URI)
        return context


class OidcStartView(oidc_views.OIDCAuthenticationRequestView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The library reads the endpoint here; it is read per request below, once a provider is configured.
        View.__init__(self, *args, **kwargs)

    get_settings = staticmethod(oidc_setting)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not oidc_enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except (requests.RequestException, ValueError, KeyError):
            messages.error(request, f"{settings.BERTH_OIDC_PROVIDER_NAME} cannot be reached; try again later.")
            return HttpResponseRedirect(reverse("login"))
        self.OIDC_RP_CLIENT_ID = settings.BERTH_OIDC_CLIENT_ID
        return super().get(request)


class OidcCallbackView(oidc_views.OIDCAuthenticationCallbackView):
    get_settings = staticmethod(oidc_setting)

    def login_success(self) -> HttpResponse:
        response = super().login_success()
        hint = getattr(self.request, LOGOUT_HINT_ATTRIBUTE, None)
        if hint:
            response.set_cookie(
                LOGOUT_HINT_COOKIE,
                hint,
                max_age=settings.SESSION_COOKIE_AGE,
                path=reverse("logout"),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Strict",
            )
        return response

    def login_failure(self) -> HttpResponse:
        messages.error(
            self.request,
            f"Signing in with {settings.BERTH_OIDC_PROVIDER_NAME} did not succeed. Try again, or ask an administrator.",
        )
        return HttpResponseRedirect(reverse("login"))


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Ends Berth's session and, for a single sign-on session, sends the browser on to the provider's
    end_session_endpoint, which comes back to the login page.

    It is sent there by a page rather than a redirect: the logout form's page allows forms to go to Berth
    only (CSP form-action 'self'), and browsers apply that to where the form's answer redirects too."""
    id_token = request.COOKIES.get(LOGOUT_HINT_COOKIE)
    from_sso = request.session.get(auth.BACKEND_SESSION_KEY) == OIDC_BACKEND
    auth.logout(request)
    response = _leave(request, from_sso, id_token)
    response.delete_cookie(LOGOUT_HINT_COOKIE, path=reverse("logout"), samesite="Strict")
    return response


def _leave(request: HttpRequest, from_sso: bool, id_token: str | None) -> HttpResponse:
    """The page that continues to the provider's logout for a single sign-on session, else the login page."""
    login_url = request.build_absolute_uri(reverse("login"))
    if from_sso and oidc_enabled():
        try:
            end_session = discovery().get("end_session_endpoint")
        except (requests.RequestException, ValueError):
            end_session = None
        if end_session:
            query = {"client_id": settings.BERTH_OIDC_CLIENT_ID, "post_logout_redirect_uri": login_url}
            if id_token:
                query["id_token_hint"] = id_token
            context = {
                "title": "Signed out",
                "provider": settings.BERTH_OIDC_PROVIDER_NAME,
                "end_session_url": f"{end_session}?{urlencode(query)}",
            }
            return render(request, "registration/sso_logged_out.html", context)
    return HttpResponseRedirect(login_url)
