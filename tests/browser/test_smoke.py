import pytest
from django.urls import reverse
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_an_admin_logs_in_and_sees_live_cluster_health(ceph_cluster, ceph_admin, logged_in_page):
    health = ceph_admin.ceph("health").strip()
    expect(logged_in_page.get_by_test_id("health-text")).to_have_text(health)
    expect(logged_in_page.get_by_test_id("pool-count")).to_be_visible()


def test_the_api_docs_render_under_the_content_security_policy(logged_in_page, live_server):
    violations = []
    logged_in_page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    logged_in_page.goto(live_server.url + reverse("api-docs"))
    expect(logged_in_page.get_by_role("heading", name="Berth API")).to_be_visible()
    assert violations == []
