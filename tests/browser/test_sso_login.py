"""Single sign-on in a real browser: Berth's "Sign in with ..." button, the OpenID provider's own login page
(panva's oidc-provider, tests/fixtures/oidc.py), back in Berth with the roles of one's groups; and logging out
ends the provider's session too, back on Berth's login page (checked by axe-core with its SSO button)."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from dashboard.tenancy.models import DirectoryRoleRule, Membership, Tenant
from tests.fixtures.oidc import CLIENT_ID

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_signing_in_and_out_through_the_providers_own_pages(page: Page, live_server, oidc):
    oidc.provider.set_client(
        CLIENT_ID,
        client_secret=oidc.client_secret,
        redirect_uris=[f"{live_server.url}/oidc/callback/"],
        post_logout_redirect_uris=[f"{live_server.url}/login/"],
        grant_types=["authorization_code"],
        response_types=["code"],
        token_endpoint_auth_method="client_secret_post",
    )
    tenant = Tenant.objects.create(name="Payments", slug="payments")
    DirectoryRoleRule.objects.create(group="payments-ops", tenant=tenant, tenant_role=Membership.OPERATOR)
    oidc.account("grace-sub", groups=["payments-ops"], preferred_username="grace")
    page.set_default_timeout(15_000)

    page.goto(f"{live_server.url}/tenants/payments/")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    # The provider's development login page: any password for a known account.
    page.wait_for_url(f"{oidc.provider.issuer}/**")
    page.get_by_placeholder("Enter any login").fill("grace-sub")
    page.get_by_placeholder("and password").fill("whatever the provider accepts")
    page.get_by_role("button", name="Sign-in").click()

    page.wait_for_url(f"{live_server.url}/tenants/payments/")
    expect(page.get_by_role("heading", name="Tenant Payments")).to_be_visible()
    expect(page.get_by_role("navigation").get_by_text("grace")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(f"{live_server.url}/login/")
    assert "end_session.success" in oidc.provider.events()
    violations = Axe().run(page, options={"resultTypes": ["violations"]}).response["violations"]
    assert [rule["id"] for rule in violations if rule["impact"] in ("serious", "critical")] == []
    # The provider forgot her too: the button leads to its login page again, not straight back into Berth.
    page.get_by_role("link", name="Sign in with Test IdP").click()
    expect(page.get_by_placeholder("Enter any login")).to_be_visible()
