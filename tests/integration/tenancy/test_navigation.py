"""The navigation offers the Activity page to those who may read it, and pull secrets to all."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(("role", "offered"), [("viewer", False), ("operator", False), ("admin", True)])
def test_activity_is_offered_to_tenant_admins_only(client, teams, role, offered):
    client.force_login(teams.members[role])
    page = client.get(reverse("overview")).content.decode()
    assert (f'href="{reverse("activity")}"' in page) is offered
    assert f'href="{reverse("registry:secret-list")}"' in page
    assert client.get(reverse("activity")).status_code == (200 if offered else 403)
