"""Attack: take over the API with someone else's token, or keep using one that should be dead.

DRF's authtoken kept every key in clear in the database and its admin listed them all, and a key
never expired. A token is now shown once to its owner, stored only as a hash, listed nowhere with
its value, refused after its expiry and as soon as its owner revokes it.
"""

import datetime as dt
import json
import re
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from dashboard.audit.models import AuditEvent
from tests.fixtures.berth import TEST_PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

NEW_TOKEN = re.compile(r'data-testid="new-token"[^>]*>([^<]+)<')


@pytest.fixture
def owner(db):
    return get_user_model().objects.create_user("ci-bot-owner", password=TEST_PASSWORD)


@pytest.fixture
def owner_client(owner) -> Client:
    client = Client()
    assert client.post("/login/", {"username": owner.username, "password": TEST_PASSWORD}).status_code == 302
    return client


def _new_token(client: Client, **fields) -> str:
    response = client.post("/account/tokens/", {"name": "deploy pipeline", **fields})
    assert response.status_code == 200, response.status_code
    assert "no-store" in response["Cache-Control"]
    return NEW_TOKEN.search(response.content.decode()).group(1).strip()


def _api(key: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def _stored_anywhere(value: str) -> list[str]:
    """The tables whose rows contain `value`, read straight from the database."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            if any(value in str(row) for row in cursor.fetchall()):
                found.append(table)
    return found


def test_a_token_is_shown_once_and_stored_and_listed_nowhere(owner_client, admin_client):
    key = _new_token(owner_client)
    assert _api(key).get("/api/v1/tasks/").status_code == 200
    assert key not in owner_client.get("/account/tokens/").content.decode()
    assert key not in _api(key).get("/api/v1/tokens/").content.decode()
    listing = admin_client.get("/admin/tenancy/apitoken/")
    assert listing.status_code == 200 and "deploy pipeline" in listing.content.decode()
    assert key not in listing.content.decode()
    assert _stored_anywhere(key) == []
    assert key not in json.dumps(list(AuditEvent.objects.values("target", "parameters", "error")))


def test_an_expired_token_is_refused(owner_client):
    key = _new_token(owner_client)
    later = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=later + dt.timedelta(days=89)):
        assert _api(key).get("/api/v1/tasks/").status_code == 200
    with mock.patch("django.utils.timezone.now", return_value=later + dt.timedelta(days=91)):
        refused = _api(key).get("/api/v1/tasks/")
    assert (refused.status_code, refused.json()["code"]) == (401, "token_expired")

    short = _new_token(owner_client, days="1")
    with mock.patch("django.utils.timezone.now", return_value=later + dt.timedelta(days=2)):
        assert _api(short).get("/api/v1/tasks/").status_code == 401


def test_a_revoked_token_is_refused_and_only_its_owner_revokes_it(owner_client, owner):
    first, second = _new_token(owner_client), _new_token(owner_client)
    [listed_first] = [token for token in _api(first).get("/api/v1/tokens/").json() if first.startswith(token["prefix"])]

    intruder = get_user_model().objects.create_user("intruder", password=TEST_PASSWORD)
    other = APIClient()
    other.force_authenticate(intruder)
    assert other.delete(f"/api/v1/tokens/{listed_first['id']}/").status_code == 404
    assert _api(first).get("/api/v1/tasks/").status_code == 200

    assert _api(second).delete(f"/api/v1/tokens/{listed_first['id']}/").status_code == 204
    assert _api(first).get("/api/v1/tasks/").status_code == 401

    [listed_second] = _api(second).get("/api/v1/tokens/").json()
    assert owner_client.post(f"/account/tokens/{listed_second['id']}/revoke/").status_code == 302
    assert _api(second).get("/api/v1/tasks/").status_code == 401

    events = list(AuditEvent.objects.order_by("id").values_list("action", "outcome", "actor_name"))
    assert events == [
        ("auth.api_token.create", "success", owner.username),
        ("auth.api_token.create", "success", owner.username),
        ("auth.api_token.revoke", "failed", "intruder"),
        ("auth.api_token.revoke", "success", owner.username),
        ("auth.api_token.revoke", "success", owner.username),
    ]
