"""The rule table in the admin: superusers only (a rule can make a group's members platform admins), each rule
one role, and every change recorded in the audit log."""

import pytest
from django.contrib.auth import get_user_model

from dashboard.audit.models import AuditEvent
from dashboard.tenancy.models import DirectoryRoleRule, PlatformRole, Tenant

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

ADD = "/admin/tenancy/directoryrolerule/add/"


def test_a_rule_gives_a_platform_role_or_a_tenant_role_never_both_nor_neither(admin_client):
    tenant = Tenant.objects.create(name="Payments", slug="payments")
    both = {"group": "g", "platform_role": "auditor", "tenant": tenant.pk, "tenant_role": "viewer"}
    neither = {"group": "g", "platform_role": "", "tenant": "", "tenant_role": ""}
    half = {"group": "g", "platform_role": "", "tenant": tenant.pk, "tenant_role": ""}
    for refused in (both, neither, half):
        answer = admin_client.post(ADD, refused)
        assert answer.status_code == 200 and "either a platform role, or a tenant and a role" in answer.content.decode()
    assert not DirectoryRoleRule.objects.exists()

    assert admin_client.post(ADD, {**half, "tenant_role": "operator"}).status_code == 302
    event = AuditEvent.objects.get(action="admin.tenancy.directoryrolerule.create")
    assert event.actor_name == "platform-admin"


def test_platform_admins_who_are_not_superusers_cannot_see_or_change_the_rules(client):
    user = get_user_model().objects.create_user("pa", is_staff=True)
    PlatformRole.objects.create(user=user, role=PlatformRole.PLATFORM_ADMIN)
    client.force_login(user)
    assert client.post(ADD, {"group": "storage-platform", "platform_role": "platform_admin"}).status_code == 403
    assert not DirectoryRoleRule.objects.exists()
