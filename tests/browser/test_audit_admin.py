"""The audit log in the Django admin, driven through chromium.

The issue's acceptance asks for a denied *quota* event; Berth's own quotas arrive with the tenancy
issue. Until then the denied event here comes from a role refusal (PermissionDenied, code
permission_denied) raised inside an audited change, recorded by the same machinery a quota
refusal (QuotaExceeded, code quota_exceeded) goes through.
"""

import pytest

from dashboard.audit import recording
from dashboard.context import change_context
from dashboard.errors import PermissionDenied

pytestmark = pytest.mark.browser


def _refused_image_create(actor):
    with change_context(source="ui", request_id="req-denied-0001", client_ip="127.0.0.1"):
        try:
            with recording("storage.image.create", actor=actor, target={"pool": "rbd", "image": "vm-big"},
                           parameters={"size_bytes": 10 * 2**40}):
                raise PermissionDenied("Only tenant admins may create images in pool rbd.", code="role_denied")
        except PermissionDenied:
            pass


def _successful_change(actor):
    with recording("storage.image.create", actor=actor, target={"pool": "rbd", "image": "vm-small"}):
        pass


def test_the_admin_audit_list_filters_to_denied_events(logged_in_page, live_server, admin_user):
    _successful_change(admin_user)
    _refused_image_create(admin_user)
    page = logged_in_page

    page.goto(f"{live_server.url}/admin/dashboard/auditevent/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2

    page.locator("#changelist-filter").get_by_role("link", name="denied", exact=True).click()
    page.wait_for_url("**outcome__exact=denied**")
    assert rows.count() == 1
    row_text = rows.first.inner_text()
    assert "storage.image.create" in row_text and "denied" in row_text and "vm-big" in row_text

    rows.first.locator("th a, td a").first.click()
    detail = page.locator("#content-main")
    assert "Only tenant admins may create images" in detail.inner_text()
    assert "req-denied-0001" in detail.inner_text()
