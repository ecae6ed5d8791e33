"""The pull-secret wizard with the keyboard alone: from the secret list to the created secret in the real
kube-apiserver, using only Tab, Space, Enter and typing (no clicks, no filling fields by script)."""

import pytest
from django.urls import reverse
from playwright.sync_api import Locator, Page, expect

from tests.helpers import decoded_auth, linked_secrets, stored_config

pytestmark = pytest.mark.browser

# More stops than a wizard page has, with every namespace the session's tests made: a control the
# Tab order never reaches fails rather than loops.
MOST_TABS = 150


def tab_to(page: Page, control: Locator) -> None:
    """Presses Tab until `control` has the focus, as someone moving through the page would."""
    expect(control).to_be_visible()
    for _ in range(MOST_TABS):
        page.keyboard.press("Tab")
        if control.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{MOST_TABS} presses of Tab never reached {control}")


def test_the_wizard_creates_a_secret_with_the_keyboard_alone(
    logged_in_page: Page, live_server, kube_cluster, core, namespace, htpasswd_registry
):
    page = logged_in_page
    page.goto(f"{live_server.url}{reverse('registry:secret-list')}")

    tab_to(page, page.get_by_role("link", name="New pull secret"))
    page.keyboard.press("Enter")

    checkbox = page.get_by_label(namespace)
    tab_to(page, checkbox)
    page.keyboard.press("Space")
    expect(checkbox).to_be_checked()
    box = checkbox.bounding_box()
    assert box is not None and box["width"] < 30, f"the checkbox is drawn {box} (a full-width bar?)"
    tab_to(page, page.get_by_role("button", name="Next"))
    page.keyboard.press("Enter")

    row = page.get_by_test_id("registry-row").first
    for label, value in (
        ("Registry server", htpasswd_registry.url),
        ("Username", htpasswd_registry.username),
        ("Password", htpasswd_registry.password),
    ):
        tab_to(page, row.get_by_label(label))
        page.keyboard.type(value)
    tab_to(page, row.get_by_role("button", name="Test login"))
    page.keyboard.press("Enter")
    expect(row.get_by_test_id("login-result").locator('[data-outcome="ok"]')).to_be_visible()
    tab_to(page, page.get_by_role("button", name="Next"))
    page.keyboard.press("Enter")

    tab_to(page, page.get_by_label("Secret name"))
    page.keyboard.type("regkey")
    expect(page.get_by_test_id("name-check").locator('[data-valid="true"]')).to_be_visible()
    expect(page.get_by_label("default", exact=True)).to_be_checked()
    # Enter in a field goes forward: Next is the form's first button.
    page.keyboard.press("Enter")

    expect(page.get_by_test_id("review-manifest")).to_contain_text(htpasswd_registry.url.removeprefix("http://"))
    tab_to(page, page.get_by_role("button", name="Create"))
    page.keyboard.press("Enter")

    expect(page.locator(f'[data-testid="result-row"][data-namespace="{namespace}"]')).to_have_attribute(
        "data-outcome", "created"
    )
    _, document = stored_config(core, namespace, "regkey")
    [entry] = document["auths"].values()
    assert decoded_auth(entry) == f"{htpasswd_registry.username}:{htpasswd_registry.password}"
    assert linked_secrets(core, namespace) == ["regkey"]
