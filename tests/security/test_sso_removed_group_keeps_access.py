"""Attack: someone moved out of a team at the company directory signs in again and goes on working in the
team's tenant.

Berth grants tenant roles from directory groups at sign-in; a role a group gave must go when the group does,
or the directory would only ever add access. Roles given by hand stay (they are not the directory's).
"""

import pytest

from dashboard.tenancy.models import DirectoryRoleRule, Membership, Tenant

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_a_user_removed_from_the_group_loses_the_tenant_at_the_next_sign_in(oidc, client):
    tenant = Tenant.objects.create(name="Payments", slug="payments")
    DirectoryRoleRule.objects.create(group="payments-leads", tenant=tenant, tenant_role=Membership.ADMIN)
    oidc.account("mover-sub", groups=["payments-leads"], preferred_username="mover")
    oidc.sign_in(client, "mover-sub")
    assert client.get("/api/v1/tenants/payments/").status_code == 200

    oidc.account("mover-sub", groups=["search-dev"])
    client.post("/logout/")
    oidc.sign_in(client, "mover-sub")

    answer = client.get("/api/v1/tenants/payments/")
    assert answer.status_code == 404 and answer.json()["code"] == "tenant_denied"
    assert client.post("/tenants/payments/members/", {"username": "mover", "role": "admin"}).status_code == 404
