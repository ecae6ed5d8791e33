"""An operator creates an image-pull secret through the wizard in a real browser, against the real
kube-apiserver and real registries: Test login, two registries in two namespaces, then rotate one
password and delete the secret from its page."""

import json

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import Page, expect

from tests.helpers import decoded_auth, linked_secrets, stored_config

pytestmark = pytest.mark.browser


def registry_key(url: str) -> str:
    return url.removeprefix("http://")


def try_login(row, password: str, outcome: str) -> None:
    row.get_by_label("Password").fill(password)
    row.get_by_role("button", name="Test login").click()
    expect(row.get_by_test_id("login-result").locator(f'[data-outcome="{outcome}"]')).to_be_visible()


def test_wizard_creates_rotates_and_deletes(
    logged_in_page: Page,
    live_server,
    kube_cluster,
    core,
    namespace,
    second_namespace,
    htpasswd_registry,
    token_registry,
):
    page = logged_in_page
    console_errors = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    page.get_by_role("link", name="Pull secrets").click()
    page.get_by_role("link", name="New pull secret").click()

    page.get_by_label(namespace).check()
    page.get_by_label(second_namespace).check()
    page.get_by_role("button", name="Next").click()

    rows = page.get_by_test_id("registry-row")
    first = rows.nth(0)
    first.get_by_label("Registry server").fill(htpasswd_registry.url)
    first.get_by_label("Username").fill(htpasswd_registry.username)
    try_login(first, "wrong-password", "wrong_credentials")
    try_login(first, htpasswd_registry.password, "ok")

    page.get_by_role("button", name="Add registry").click()
    unreachable = rows.nth(1)
    unreachable.get_by_label("Registry server").fill("http://127.0.0.1:9")
    unreachable.get_by_label("Username").fill("nobody")
    try_login(unreachable, "whatever", "unreachable")
    unreachable.get_by_role("button", name="Remove").click()
    expect(rows).to_have_count(1)

    page.get_by_role("button", name="Add registry").click()
    second = rows.nth(1)
    second.get_by_label("Registry server").fill(token_registry.url)
    second.get_by_label("Username").fill(token_registry.username)
    try_login(second, token_registry.password, "ok")
    page.get_by_role("button", name="Next").click()

    page.get_by_label("Secret name").press_sequentially("Bad_Name")
    expect(page.get_by_test_id("name-check").locator('[data-valid="false"]')).to_contain_text("DNS-1123")
    page.get_by_label("Secret name").fill("")
    page.get_by_label("Secret name").press_sequentially("regkey")
    expect(page.get_by_test_id("name-check").locator('[data-valid="true"]')).to_be_visible()
    expect(page.get_by_label("default", exact=True)).to_be_checked()
    page.get_by_role("button", name="Next").click()

    manifest = page.get_by_test_id("review-manifest")
    expect(manifest).to_contain_text(registry_key(htpasswd_registry.url))
    expect(manifest).to_contain_text("********")
    assert htpasswd_registry.password not in page.content()
    page.get_by_role("button", name="Create").click()

    for ns in (namespace, second_namespace):
        expect(page.locator(f'[data-testid="result-row"][data-namespace="{ns}"]')).to_have_attribute(
            "data-outcome", "created"
        )
        _, document = stored_config(core, ns, "regkey")
        auths = document["auths"]
        assert (
            decoded_auth(auths[registry_key(htpasswd_registry.url)])
            == f"{htpasswd_registry.username}:{htpasswd_registry.password}"
        )
        assert (
            decoded_auth(auths[registry_key(token_registry.url)])
            == f"{token_registry.username}:{token_registry.password}"
        )
        assert linked_secrets(core, ns) == ["regkey"]
    stored_sessions = [json.dumps(session.get_decoded()) for session in Session.objects.all()]
    assert any("registry_wizard" in stored for stored in stored_sessions)
    assert not [
        stored
        for stored in stored_sessions
        if htpasswd_registry.password in stored or token_registry.password in stored
    ]

    page.get_by_test_id("result-row").filter(has_text=namespace).get_by_role("link", name=namespace).click()
    entries = page.get_by_test_id("entry-row")
    expect(entries).to_have_count(2)
    entries.filter(has_text=registry_key(htpasswd_registry.url)).get_by_role("link", name="Rotate password").click()
    page.get_by_label("New password").fill("rotated-Pa55")
    page.get_by_role("button", name="Set new password").click()
    expect(page.locator("#toasts")).to_contain_text("the other registries are unchanged")
    _, document = stored_config(core, namespace, "regkey")
    assert (
        decoded_auth(document["auths"][registry_key(htpasswd_registry.url)])
        == f"{htpasswd_registry.username}:rotated-Pa55"
    )
    assert (
        decoded_auth(document["auths"][registry_key(token_registry.url)])
        == f"{token_registry.username}:{token_registry.password}"
    )

    page.get_by_role("link", name="Delete").click()
    page.get_by_label("Type the name to confirm").fill("regkey")
    page.get_by_role("button", name="Delete secret").click()
    expect(page.locator("#toasts")).to_contain_text("Secret regkey deleted after unlinking it from default")
    assert linked_secrets(core, namespace) == []
    assert [secret.metadata.name for secret in core.list_namespaced_secret(namespace).items] == []
    assert linked_secrets(core, second_namespace) == ["regkey"]
    assert not [error for error in console_errors if "Content Security Policy" in error], console_errors
