"""Automation keeps working with single sign-on: an SSO user makes a personal API token (hashed, expiring), and
an OpenID client's client-credentials access token is accepted by the API as the client's service user, whose
roles come from the rule table like a person's."""

import re

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from dashboard.tenancy.models import OIDC, DirectoryRoleRule, ExternalIdentity, Membership, Tenant

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

NEW_TOKEN = re.compile(r'data-testid="new-token"[^>]*>([^<]+)<')


def test_an_sso_user_makes_a_personal_api_token_that_expires(oidc, client):
    oidc.account("ops-sub", groups=[], preferred_username="ops")
    oidc.sign_in(client, "ops-sub")

    page = client.post("/account/tokens/", {"name": "deploy pipeline", "days": 7})
    key = NEW_TOKEN.search(page.content.decode()).group(1).strip()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    [token] = api.get("/api/v1/tokens/").json()
    assert token["name"] == "deploy pipeline" and token["expires"]
    assert get_user_model().objects.get(username="ops").api_tokens.get().key_hash != key


def test_a_client_credentials_token_acts_as_the_clients_service_user_with_its_rules_roles(oidc, forget_provider_keys):
    tenant = Tenant.objects.create(name="Payments", slug="payments")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {oidc.client_credentials_token()}")
    assert api.get("/api/v1/tenants/payments/").status_code == 404

    DirectoryRoleRule.objects.create(group="client:berth-automation", tenant=tenant, tenant_role=Membership.VIEWER)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {oidc.client_credentials_token()}")
    answer = api.get("/api/v1/tenants/payments/")

    assert answer.status_code == 200 and answer.json()["slug"] == "payments"
    identity = ExternalIdentity.objects.get(subject="berth-automation")
    assert identity.source == OIDC and identity.user.username == "client-berth-automation"
    assert Membership.objects.get(user=identity.user).source == OIDC


def test_bearer_tokens_are_refused_unless_an_api_audience_is_configured(oidc, settings, forget_provider_keys):
    token = oidc.client_credentials_token()
    settings.BERTH_OIDC_API_AUDIENCE = ""
    answer = APIClient().get("/api/v1/tenants/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code == 401
