"""The navigation offers the Activity page to those who may read it, pull secrets and API tokens to
all, and the admin site and tenant management by role rather than by Django's staff status."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from dashboard.tenancy.models import PlatformRole

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(("role", "offered"), [("viewer", False), ("operator", False), ("admin", True)])
def test_activity_is_offered_to_tenant_admins_only(client, teams, role, offered):
    client.force_login(teams.members[role])
    page = client.get(reverse("overview")).content.decode()
    assert (f'href="{reverse("activity")}"' in page) is offered
    assert f'href="{reverse("registry:secret-list")}"' in page
    assert client.get(reverse("activity")).status_code == (200 if offered else 403)


def _user(role: str | None = None, **flags):
    user = get_user_model().objects.create_user(f"nav-{role or 'none'}", **flags)
    if role:
        PlatformRole.objects.create(user=user, role=role)
    return user


@pytest.mark.parametrize(
    ("role", "staff", "links"),
    # links offered: (Activity, Audit log, Admin, Add a tenant)
    [
        (PlatformRole.AUDITOR, True, (True, True, False, False)),
        (PlatformRole.PLATFORM_ADMIN, True, (True, False, True, True)),
        (PlatformRole.PLATFORM_ADMIN, False, (True, False, False, True)),
        (None, True, (False, False, True, False)),
    ],
    ids=["auditor", "platform-admin", "platform-admin-without-staff", "staff-without-a-role"],
)
def test_the_navigation_follows_the_role_not_staff_status(client, db, role, staff, links):
    client.force_login(_user(role, is_staff=staff))
    page = client.get(reverse("tenant-list")).content.decode()
    hrefs = ("activity", "admin:audit_auditevent_changelist", "admin:index", "tenant-create")
    assert tuple(f'href="{reverse(name)}"' in page for name in hrefs) == links
    assert f'href="{reverse("account-tokens")}"' in page
