"""The audit log in the Django admin, driven through chromium: a real quota refusal (a tenant
operator creating an image on the real Ceph cluster past its tenant's image limit) is found by
filtering the list to denied events."""

import uuid

import pytest
from django.contrib.auth import get_user_model

from dashboard.core.context import change_context
from dashboard.core.errors import QuotaExceeded
from dashboard.tenancy.models import Membership, Tenant
from storage.models import StorageBinding, StorageQuota
from storage.services.images import image_create

pytestmark = pytest.mark.browser


@pytest.fixture
def tenant_pool(transactional_db, ceph_admin):
    """A pool with namespace team-a, made with the admin CLI so that its setup records no events."""
    name = f"ui-audit-{uuid.uuid4().hex[:8]}"
    ceph_admin.create_pool(name)
    ceph_admin.create_namespace(f"{name}/team-a")
    yield name
    ceph_admin.delete_pool(name)


def test_the_admin_audit_list_filters_to_a_denied_quota_event(
    logged_in_page, live_server, admin_user, ceph_cluster, tenant_pool
):
    team_a = Tenant.objects.create(name="Team A", slug="team-a")
    StorageBinding.objects.create(tenant=team_a, cluster=ceph_cluster, pool=tenant_pool, namespace="team-a")
    StorageQuota.objects.create(tenant=team_a, max_images=0)
    operator = get_user_model().objects.create_user("a-operator", password="pw-not-used-0")
    Membership.objects.create(user=operator, tenant=team_a, role=Membership.OPERATOR)

    image_create(actor=admin_user, cluster=ceph_cluster, pool=tenant_pool, namespace="", name="vm-small", size="16MiB")
    with change_context(source="ui", request_id="req-denied-0001", client_ip="127.0.0.1"):
        with pytest.raises(QuotaExceeded) as refused:
            image_create(
                actor=operator, cluster=ceph_cluster, pool=tenant_pool, namespace="team-a", name="vm-big", size="16MiB"
            )
    assert refused.value.message.startswith("Tenant team-a would exceed its images quota: 0 in use + 1 requested")
    page = logged_in_page

    page.goto(f"{live_server.url}/admin/audit/auditevent/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2

    page.locator("#changelist-filter").get_by_role("link", name="denied", exact=True).click()
    page.wait_for_url("**outcome__exact=denied**")
    assert rows.count() == 1
    row_text = rows.first.inner_text()
    assert all(text in row_text for text in ("storage.image.create", "denied", "a-operator", "team-a", "vm-big"))

    rows.first.locator("th a, td a").first.click()
    detail = page.locator("#content-main").inner_text()
    assert refused.value.message in detail
    assert "req-denied-0001" in detail
