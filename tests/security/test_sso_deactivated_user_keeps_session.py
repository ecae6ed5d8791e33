"""Attack: keep using Berth after an administrator deactivated one's account, with a session opened earlier
through single sign-on.

mozilla-django-oidc's backend loads the user of a session whether active or not, so deactivating a user (the
first thing done when someone leaves) did not end their single sign-on sessions. Berth's backend refuses
inactive users there as Django's own backend does.
"""

import pytest
from django.contrib.auth import get_user_model

from dashboard.tenancy.models import DirectoryRoleRule, Membership, Tenant

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_a_deactivated_users_sso_session_no_longer_works(oidc, client):
    tenant = Tenant.objects.create(name="Payments", slug="payments")
    DirectoryRoleRule.objects.create(group="payments-ops", tenant=tenant, tenant_role=Membership.OPERATOR)
    oidc.account("leaver-sub", groups=["payments-ops"], preferred_username="leaver")
    oidc.sign_in(client, "leaver-sub")
    assert client.get("/api/v1/tenants/payments/").status_code == 200

    get_user_model().objects.filter(username="leaver").update(is_active=False)

    assert client.get("/api/v1/tenants/payments/").status_code in (401, 403)
    assert client.get("/tenants/payments/")["Location"].startswith("/login/")
