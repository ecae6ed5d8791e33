"""Issue 10, point 8: failed-login throttling behind a proxy.

Berth locks a username+address pair out after repeated failed logins. Behind a reverse proxy every
request comes from the proxy's address, so an attacker who fails a few logins for `platform-admin`
locked that account out for everyone, its owner included. The real client is in X-Forwarded-For,
which only the proxies Berth is told to trust may write: without that setting the header must be
ignored, and with it only the entries the trusted proxies appended count, or an attacker would send a
new forged address with every guess and never be locked out.
"""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.fixtures.berth import TEST_PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

PROXY = "10.20.0.2"
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


def attempt(username: str, password: str, *, remote_addr: str, forwarded_for: str | None = None):
    """One login from a fresh browser, as it reaches Berth."""
    meta = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return Client().post(reverse("login"), {"username": username, "password": password}, **meta)


def guess_until_locked(username: str, **where) -> None:
    answers = [attempt(username, "wrong-password", **where).status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert answers[-1] == 429, answers


@pytest.fixture
def behind_one_proxy(settings):
    settings.BERTH_TRUSTED_PROXIES = 1
    return settings


def test_an_attacker_behind_the_proxy_does_not_lock_the_owner_out(behind_one_proxy, admin_user):
    guess_until_locked(admin_user.username, remote_addr=PROXY, forwarded_for=ATTACKER)
    owner = attempt(admin_user.username, TEST_PASSWORD, remote_addr=PROXY, forwarded_for=OWNER)
    assert owner.status_code == 302, owner.status_code
    assert attempt(admin_user.username, TEST_PASSWORD, remote_addr=PROXY, forwarded_for=ATTACKER).status_code == 429


def test_forged_addresses_in_front_of_the_proxys_do_not_escape_the_lockout(behind_one_proxy, admin_user):
    """The proxy appends the address it saw; whatever the attacker wrote before it is not trusted."""
    for guess in range(settings.AXES_FAILURE_LIMIT + 3):
        attempt(admin_user.username, "wrong-password", remote_addr=PROXY, forwarded_for=f"192.0.2.{guess}, {ATTACKER}")
    forged = attempt(admin_user.username, TEST_PASSWORD, remote_addr=PROXY, forwarded_for=f"192.0.2.99, {ATTACKER}")
    assert forged.status_code == 429, forged.status_code


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(admin_user):
    for guess in range(settings.AXES_FAILURE_LIMIT + 3):
        attempt(admin_user.username, "wrong-password", remote_addr=ATTACKER, forwarded_for=f"192.0.2.{guess}")
    forged = attempt(admin_user.username, TEST_PASSWORD, remote_addr=ATTACKER, forwarded_for="192.0.2.99")
    assert forged.status_code == 429, forged.status_code
    # Another address is another pair: the owner still logs in.
    assert attempt(admin_user.username, TEST_PASSWORD, remote_addr=OWNER).status_code == 302
