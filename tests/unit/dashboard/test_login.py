"""Session login, and throttling of repeated failures (django-axes)."""

import pytest
from django.conf import settings
from django.urls import reverse

from tests.fixtures.berth import TEST_PASSWORD

pytestmark = [pytest.mark.unit, pytest.mark.django_db]


def attempt(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_pages_need_a_login(client):
    response = client.get(reverse("overview"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_good_password_logs_in(client, admin_user):
    response = attempt(client, admin_user.username, TEST_PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("overview")


def test_repeated_failures_lock_the_account_out_even_for_the_right_password(client, admin_user):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, admin_user.username, "wrong-password").status_code == 200
    # The failure that reaches the limit is answered with the lock-out already.
    assert attempt(client, admin_user.username, "wrong-password").status_code == 429
    locked = attempt(client, admin_user.username, TEST_PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed login attempts" in locked.content.decode()
    assert client.get(reverse("overview")).status_code == 302
