"""The API tokens page and API beyond the attacks in tests/security/test_api_tokens.py: the expiry's
upper bound, inactive owners, and no way to mint a token with a token."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from dashboard.tenancy.models import ApiToken
from tests.helpers import api_token_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def owner(db):
    return get_user_model().objects.create_user("token-owner")


def _api(key: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def test_a_token_lives_at_most_the_configured_days(client, owner, settings):
    settings.BERTH_API_TOKEN_DAYS = 30
    client.force_login(owner)
    page = client.post(reverse("account-tokens"), {"name": "ci", "days": "31"}).content.decode()
    assert "a token lives between 1 and 30 days" in page and 'data-testid="new-token"' not in page
    assert not ApiToken.objects.exists()
    client.post(reverse("account-tokens"), {"name": "ci", "days": ""})
    token = ApiToken.objects.get()
    assert (token.expires - token.created).days == 30


def test_an_inactive_owners_token_is_refused(owner):
    key = api_token_for(owner)
    assert _api(key).get(reverse("api:token-list")).status_code == 200
    owner.is_active = False
    owner.save()
    refused = _api(key).get(reverse("api:token-list"))
    assert (refused.status_code, refused.json()["code"]) == (401, "invalid_token")


def test_tokens_are_not_made_through_the_api(owner):
    key = api_token_for(owner)
    assert _api(key).post(reverse("api:token-list"), {"name": "successor"}, format="json").status_code == 405
    assert ApiToken.objects.count() == 1


def test_the_last_use_is_recorded(owner):
    key = api_token_for(owner)
    assert ApiToken.objects.get().last_used is None
    _api(key).get(reverse("api:token-list"))
    assert ApiToken.objects.get().last_used is not None
