"""Signing in with an LDAP password against a real slapd (tests/services/ldap.py): roles follow the user's LDAP
groups through the same rule table as OpenID Connect groups, manual roles stay, and no directory entry signs in
as a local user of the same name."""

import uuid

import pytest
from django.contrib.auth import get_user_model

from dashboard.audit.models import AuditEvent
from dashboard.tenancy.models import LDAP, MANUAL, DirectoryRoleRule, ExternalIdentity, Membership, PlatformRole, Tenant
from dashboard.tenancy.services import membership_set, role_in
from tests.fixtures.berth import TEST_PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

PASSWORD = "directory-password-7f3a"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def team(ldap_directory):
    """A person, two groups of the directory (one she is in), and rules for them."""
    uid, ops, leads = unique("ldap-user"), unique("payments-ops"), unique("payments-leads")
    ldap_directory.add_user(uid, PASSWORD, mail=f"{uid}@example.com", given_name="Ida", surname="Lund")
    ldap_directory.add_group(ops, uid)
    ldap_directory.add_group(leads)
    tenant = Tenant.objects.create(name="Payments", slug="payments")
    DirectoryRoleRule.objects.create(group=ops, tenant=tenant, tenant_role=Membership.OPERATOR)
    DirectoryRoleRule.objects.create(group=leads, platform_role=PlatformRole.PLATFORM_ADMIN)
    return uid, ops, leads, tenant


def sign_in(client, username: str, password: str = PASSWORD) -> bool:
    client.logout()
    client.post("/login/", {"username": username, "password": password})
    return client.get("/").wsgi_request.user.is_authenticated


def test_an_ldap_user_signs_in_with_the_roles_of_their_groups_and_loses_them_with_the_group(
    ldap_directory, team, client
):
    uid, ops, leads, tenant = team
    assert sign_in(client, uid)
    user = get_user_model().objects.get(username=uid)
    assert (user.email, user.first_name, user.last_name) == (f"{uid}@example.com", "Ida", "Lund")
    assert not user.has_usable_password()
    assert ExternalIdentity.objects.get(user=user).source == LDAP
    assert Membership.objects.get(user=user, tenant=tenant).source == LDAP
    assert role_in(user, tenant) == Membership.OPERATOR

    ldap_directory.add_member(leads, uid)
    ldap_directory.remove_member(ops, uid)
    assert sign_in(client, uid)
    user.refresh_from_db()
    assert PlatformRole.objects.get(user=user).role == PlatformRole.PLATFORM_ADMIN
    assert not Membership.objects.filter(user=user).exists()
    events = AuditEvent.objects.filter(action__startswith="tenancy.directory.").order_by("id")
    assert [(event.action, event.parameters.get("source")) for event in events][-2:] == [
        ("tenancy.directory.membership_remove", "ldap"),
        ("tenancy.directory.platform_role_set", "ldap"),
    ]


def test_a_wrong_password_signs_nobody_in(ldap_directory, team, client):
    uid, *_ = team
    assert not sign_in(client, uid, "not-the-password")
    assert not get_user_model().objects.filter(username=uid).exists()


def test_manual_memberships_stay_and_a_local_namesake_is_not_taken_over(ldap_directory, team, client, admin_user):
    uid, ops, _leads, tenant = team
    local = get_user_model().objects.create_user(uid, password=TEST_PASSWORD)
    assert sign_in(client, uid)
    ldap_user = client.get("/").wsgi_request.user
    assert ldap_user.pk != local.pk and ldap_user.username == f"{uid}-2"

    membership_set(actor=admin_user, tenant=tenant, username=ldap_user.username, role=Membership.ADMIN)
    ldap_directory.remove_member(ops, uid)
    assert sign_in(client, uid)
    assert Membership.objects.get(user=ldap_user, tenant=tenant).source == MANUAL
    assert role_in(ldap_user, tenant) == Membership.ADMIN


def test_with_local_login_off_directory_users_still_sign_in_with_the_form(ldap_directory, team, client, settings):
    uid, *_ = team
    settings.BERTH_LOCAL_LOGIN = False
    assert sign_in(client, uid)
