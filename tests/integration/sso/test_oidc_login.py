"""Signing in through a real OpenID provider (panva's oidc-provider, started by tests/fixtures/oidc.py): the code
flow with PKCE through the provider's own login page, roles following the groups claim at each sign-in, manual
memberships kept, and logout ending the provider's session too."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model

from dashboard.audit.models import AuditEvent
from dashboard.tenancy.models import MANUAL, OIDC, DirectoryRoleRule, ExternalIdentity, Membership, PlatformRole, Tenant
from dashboard.tenancy.services import membership_set, role_in
from tests.fixtures.berth import TEST_PASSWORD
from tests.fixtures.oidc import TEST_SERVER, page_forms

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=False)]


@pytest.fixture
def tenants(db):
    return (
        Tenant.objects.create(name="Payments", slug="payments"),
        Tenant.objects.create(name="Search", slug="search"),
    )


@pytest.fixture
def rules(tenants):
    payments, search = tenants
    DirectoryRoleRule.objects.create(group="payments-ops", tenant=payments, tenant_role=Membership.OPERATOR)
    DirectoryRoleRule.objects.create(group="payments-leads", tenant=payments, tenant_role=Membership.ADMIN)
    DirectoryRoleRule.objects.create(group="search-dev", tenant=search, tenant_role=Membership.VIEWER)
    DirectoryRoleRule.objects.create(group="storage-platform", platform_role=PlatformRole.PLATFORM_ADMIN)
    DirectoryRoleRule.objects.create(group="compliance", platform_role=PlatformRole.AUDITOR)


def signed_in_user(client):
    return client.get("/").wsgi_request.user


def test_code_flow_with_pkce_signs_in_a_new_user_with_the_roles_of_their_groups(oidc, client, rules, tenants):
    payments, search = tenants
    oidc.account("alice-sub", groups=["payments-ops", "search-dev", "unrelated"], preferred_username="alice")

    start = client.get("/oidc/login/")
    query = parse_qs(urlsplit(start["Location"]).query)
    assert start["Location"].startswith(oidc.provider.issuer)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["client_id"] == ["berth"] and "groups" in query["scope"][0].split()

    answer = oidc.sign_in(client, "alice-sub")

    assert answer.status_code == 302 and answer["Location"] == "/"
    user = signed_in_user(client)
    assert user.username == "alice" and user.email == "alice-sub@example.com"
    assert not user.has_usable_password()
    assert ExternalIdentity.objects.get(user=user).subject == "alice-sub"
    assert role_in(user, payments) == Membership.OPERATOR
    assert role_in(user, search) == Membership.VIEWER
    assert set(Membership.objects.filter(user=user).values_list("source", flat=True)) == {OIDC}
    granted = AuditEvent.objects.filter(action="tenancy.directory.membership_set").order_by("id")
    assert [(event.tenant_slug, event.parameters) for event in granted] == [
        ("payments", {"role": "operator", "source": "oidc", "group": "payments-ops"}),
        ("search", {"role": "viewer", "source": "oidc", "group": "search-dev"}),
    ]


def test_group_added_grants_and_group_removed_revokes_at_the_next_sign_in(oidc, client, rules, tenants):
    payments, search = tenants
    oidc.account("bob-sub", groups=["search-dev"], preferred_username="bob")
    oidc.sign_in(client, "bob-sub")
    bob = get_user_model().objects.get(username="bob")
    assert role_in(bob, payments) is None and PlatformRole.objects.filter(user=bob).count() == 0

    oidc.account("bob-sub", groups=["search-dev", "payments-leads", "payments-ops", "compliance"])
    client.logout()
    oidc.sign_in(client, "bob-sub")
    bob.refresh_from_db()
    assert Membership.objects.get(user=bob, tenant=payments).role == Membership.ADMIN, "his groups' highest role"
    assert PlatformRole.objects.get(user=bob).role == PlatformRole.AUDITOR
    assert bob.is_staff, "auditors read the audit log in the admin site"

    oidc.account("bob-sub", groups=["payments-ops"])
    client.logout()
    oidc.sign_in(client, "bob-sub")
    bob = get_user_model().objects.get(username="bob")
    assert role_in(bob, payments) == Membership.OPERATOR
    assert role_in(bob, search) is None
    assert not PlatformRole.objects.filter(user=bob).exists()
    revoked = AuditEvent.objects.filter(action__startswith="tenancy.directory.", action__endswith="_remove")
    assert sorted((event.action, event.parameters["source"]) for event in revoked) == [
        ("tenancy.directory.membership_remove", "oidc"),
        ("tenancy.directory.platform_role_remove", "oidc"),
    ]


def test_memberships_set_by_hand_are_kept_whatever_the_groups_say(oidc, client, rules, tenants, admin_user):
    payments, search = tenants
    oidc.account("carol-sub", groups=["payments-ops"], preferred_username="carol")
    oidc.sign_in(client, "carol-sub")
    carol = get_user_model().objects.get(username="carol")
    # A tenant admin gives her a role by hand in a tenant no group of hers maps to, and changes the mapped one.
    membership_set(actor=admin_user, tenant=search, username="carol", role=Membership.OPERATOR)
    membership_set(actor=admin_user, tenant=payments, username="carol", role=Membership.VIEWER)

    oidc.account("carol-sub", groups=[])
    client.logout()
    oidc.sign_in(client, "carol-sub")

    assert dict(Membership.objects.filter(user=carol).values_list("tenant__slug", "source")) == {
        "search": MANUAL,
        "payments": MANUAL,
    }
    assert role_in(carol, search) == Membership.OPERATOR and role_in(carol, payments) == Membership.VIEWER


def test_a_second_sign_in_is_the_same_user_and_a_local_namesake_is_not_taken_over(oidc, client, rules):
    local = get_user_model().objects.create_user("dave", email="dave@example.com")
    oidc.account("dave-sub", groups=[], preferred_username="dave", email="dave@example.com")
    oidc.sign_in(client, "dave-sub")
    first = signed_in_user(client)
    client.logout()
    oidc.sign_in(client, "dave-sub")

    assert signed_in_user(client).pk == first.pk != local.pk
    assert first.username == "dave-2"


def test_login_page_offers_the_provider_and_local_login_can_be_switched_off(oidc, client, settings, admin_user):
    page = client.get("/login/").content.decode()
    assert "Sign in with Test IdP" in page and 'href="/oidc/login/"' in page

    settings.BERTH_LOCAL_LOGIN = False
    get_user_model().objects.create_user("eve", password="a-long-password-for-eve")
    refused = client.post("/login/", {"username": "eve", "password": "a-long-password-for-eve"})
    assert refused.status_code == 200 and not signed_in_user(client).is_authenticated
    assert "Break-glass sign-in" in client.get("/login/").content.decode()

    accepted = client.post("/login/", {"username": admin_user.username, "password": TEST_PASSWORD})
    assert accepted.status_code == 302 and signed_in_user(client) == admin_user


def test_logout_ends_the_providers_session_too(oidc, client, rules):
    oidc.account("frank-sub", groups=["search-dev"], preferred_username="frank")
    browser = oidc.browser()
    oidc.sign_in(client, "frank-sub", at_provider=browser)

    answer = client.post("/logout/")

    assert not signed_in_user(client).is_authenticated
    end_session = oidc.provider.discovery()["end_session_endpoint"]
    onward = re.search(
        r'data-testid="end-session" href="([^"]+)"|href="([^"]+)" data-testid="end-session"', answer.text
    )
    url = html.unescape(onward.group(1) or onward.group(2))
    assert url.startswith(end_session) and f'content="0;url={html.escape(url)}"' in answer.text
    query = parse_qs(urlsplit(url).query)
    assert query["post_logout_redirect_uri"] == [f"{TEST_SERVER}/login/"] and query["id_token_hint"][0]
    # The provider asks "Do you want to sign out?"; the browser says yes and is sent back to Berth.
    page = browser.get(url, timeout=10)
    [form] = page_forms(page.text)
    yes = {**form["fields"], "logout": "yes"}
    confirmed = browser.post(form["action"], data=yes, allow_redirects=False, timeout=10)
    assert confirmed.headers["Location"] == f"{TEST_SERVER}/login/"
    assert "end_session.success" in oidc.provider.events()
    # The provider's session is gone: signing in again shows its login page instead of coming straight back.
    again = browser.get(client.get("/oidc/login/")["Location"], allow_redirects=True, timeout=10)
    assert page_forms(again.text)[0]["fields"]["prompt"] == "login"


def test_a_refused_sign_in_leaves_the_browser_signed_out_with_a_message(oidc, client):
    # An account the provider does not know cannot finish its login; the callback then gets an error.
    start = client.get("/oidc/login/")
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    answer = client.get(f"/oidc/callback/?code=forged-code&state={state}", follow=True)
    assert not answer.wsgi_request.user.is_authenticated
    assert "did not succeed" in answer.content.decode()
