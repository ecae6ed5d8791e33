"""A platform admin's tenant page in a real browser: usage meters, the switcher between tenants,
and the live "this image uses ..." line on the create form (htmx, under the strict CSP)."""

import uuid

import pytest
from playwright.sync_api import Page, expect

from dashboard.tenancy.models import Tenant
from storage.models import StorageBinding, StorageQuota
from storage.services.namespaces import namespace_create
from storage.services.pools import pool_create, pool_delete

pytestmark = pytest.mark.browser


@pytest.fixture
def tenant_pool(transactional_db, ceph_cluster, admin_user):
    name = f"ui-tenant-{uuid.uuid4().hex[:8]}"
    pool_create(actor=admin_user, cluster=ceph_cluster, name=name, pg_num=8)
    namespace_create(actor=admin_user, cluster=ceph_cluster, pool=name, name="team-a")
    yield name
    pool_delete(actor=admin_user, cluster=ceph_cluster, name=name, confirm_name=name)


def test_tenant_page_meters_switcher_and_create_preview(logged_in_page: Page, live_server, tenant_pool, ceph_cluster):
    team_a = Tenant.objects.create(name="Team A", slug="team-a")
    Tenant.objects.create(name="Team B", slug="team-b")
    StorageBinding.objects.create(tenant=team_a, cluster=ceph_cluster, pool=tenant_pool, namespace="team-a")
    StorageQuota.objects.create(tenant=team_a, max_images=5, max_provisioned_gib=60)
    page = logged_in_page
    console_errors = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)

    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Tenants").click()
    page.get_by_role("link", name="Team A").click()
    expect(page.get_by_role("heading", name="Tenant Team A")).to_be_visible()
    expect(page.locator("meter.quota-meter")).to_have_count(2)
    expect(page.get_by_label("Images used")).to_have_attribute("max", "5")
    page.get_by_role("navigation", name="Switch tenant").get_by_role("link", name="Team B").click()
    expect(page.get_by_role("heading", name="Tenant Team B")).to_be_visible()

    page.goto(f"{live_server.url}/storage/pools/{tenant_pool}/images/create/?namespace=team-a")
    page.get_by_label("Size", exact=True).fill("40")
    expect(page.locator("#quota-preview")).to_have_text(
        "This image uses 40 GiB of your remaining 60 GiB (tenant team-a)."
    )
    assert not [text for text in console_errors if "Content Security Policy" in text]
