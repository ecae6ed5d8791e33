"""Which roles a user's directory groups give under the rule table, and how the groups claim is read."""

import pytest

from dashboard.tenancy.directory import Grant, wanted_roles
from dashboard.tenancy.models import DirectoryRoleRule, Membership, PlatformRole
from dashboard.tenancy.oidc import claim_groups

pytestmark = pytest.mark.unit

PAYMENTS, SEARCH = 1, 2
RULES = [
    DirectoryRoleRule(group="payments-ops", tenant_id=PAYMENTS, tenant_role=Membership.OPERATOR),
    DirectoryRoleRule(group="payments-leads", tenant_id=PAYMENTS, tenant_role=Membership.ADMIN),
    DirectoryRoleRule(group="everyone", tenant_id=PAYMENTS, tenant_role=Membership.VIEWER),
    DirectoryRoleRule(group="everyone", tenant_id=SEARCH, tenant_role=Membership.VIEWER),
    DirectoryRoleRule(group="compliance", platform_role=PlatformRole.AUDITOR),
    DirectoryRoleRule(group="storage-platform", platform_role=PlatformRole.PLATFORM_ADMIN),
]


def test_no_groups_give_nothing():
    wanted = wanted_roles(RULES, [])
    assert wanted.tenants == {} and wanted.platform is None


def test_groups_without_a_rule_give_nothing():
    wanted = wanted_roles(RULES, ["Payments-Ops", "payments-ops ", "unknown"])
    assert wanted.tenants == {} and wanted.platform is None, "names match exactly, case and spaces included"


def test_one_group_can_give_roles_in_several_tenants():
    assert wanted_roles(RULES, ["everyone"]).tenants == {
        PAYMENTS: Grant(Membership.VIEWER, "everyone"),
        SEARCH: Grant(Membership.VIEWER, "everyone"),
    }


@pytest.mark.parametrize(
    ("groups", "role", "group"),
    [
        (["everyone", "payments-ops"], Membership.OPERATOR, "payments-ops"),
        (["payments-ops", "payments-leads", "everyone"], Membership.ADMIN, "payments-leads"),
        (["payments-leads", "payments-ops"], Membership.ADMIN, "payments-leads"),
    ],
)
def test_the_highest_role_in_a_tenant_wins_whatever_the_order(groups, role, group):
    assert wanted_roles(RULES, groups).tenants[PAYMENTS] == Grant(role, group)


@pytest.mark.parametrize("groups", [["compliance", "storage-platform"], ["storage-platform", "compliance"]])
def test_platform_admin_outranks_auditor(groups):
    assert wanted_roles(RULES, groups).platform == Grant(PlatformRole.PLATFORM_ADMIN, "storage-platform")


@pytest.mark.parametrize(
    ("claims", "groups"),
    [
        ({"groups": ["a", "b"]}, ["a", "b"]),
        ({"groups": "a"}, ["a"]),
        ({"groups": [1, "b"]}, ["1", "b"]),
        ({}, []),
        ({"groups": None}, []),
        ({"groups": {"a": 1}}, []),
    ],
)
def test_the_groups_claim_is_a_list_or_one_name(claims, groups):
    assert claim_groups(claims) == groups


def test_the_groups_claim_is_configurable(settings):
    settings.BERTH_OIDC_GROUPS_CLAIM = "roles"
    assert claim_groups({"roles": ["berth-admins"], "groups": ["x"]}) == ["berth-admins"]
