"""The state of one namespace of a managed pull secret, from what the reconciler observed."""

import pytest

from registry.models import ManagedPullSecret
from registry.services.managed import CopyFacts, State, judge, wanted_accounts

pytestmark = pytest.mark.unit

SOURCE = "a" * 64
BERTHS = CopyFacts(managed=True, digest=SOURCE, recorded=SOURCE)


def state(copy, *, opted_out=False, wanted=("default",), linked=("default",)):
    return judge(
        namespace="ns",
        opted_out=opted_out,
        copy=copy,
        source_digest=SOURCE,
        wanted_accounts=wanted,
        linked_accounts=linked,
    )


@pytest.mark.parametrize(
    ("copy", "expected"),
    [
        (None, State.MISSING),
        (BERTHS, State.IN_SYNC),
        (CopyFacts(managed=False, digest="", recorded=""), State.UNMANAGED),
        # Berth wrote it from an older source: it only needs to follow.
        (CopyFacts(managed=True, digest="b" * 64, recorded="b" * 64), State.OUTDATED),
        # Its content is no longer what Berth wrote: someone edited it.
        (CopyFacts(managed=True, digest="c" * 64, recorded=SOURCE), State.DIFFERS),
        (CopyFacts(managed=True, digest=SOURCE, recorded="b" * 64), State.DIFFERS),
    ],
)
def test_the_copy_decides_the_state(copy, expected):
    assert state(copy).state == expected


def test_opting_out_wins_over_everything():
    assert state(None, opted_out=True).state == State.OPTED_OUT
    assert state(CopyFacts(managed=False, digest="", recorded=""), opted_out=True).state == State.OPTED_OUT


def test_an_identical_copy_missing_from_a_chosen_account_is_not_linked():
    found = state(BERTHS, wanted=("default", "builder"), linked=("default",))
    assert (found.state, found.unlinked) == (State.NOT_LINKED, ("builder",))
    # A missing copy is created and then linked to the accounts that do not list it yet.
    assert state(None, wanted=("default", "builder"), linked=("builder",)).unlinked == ("default",)


@pytest.mark.parametrize(
    ("accounts", "names", "expected"),
    [
        (ManagedPullSecret.DEFAULT_ACCOUNT, [], ["default"]),
        (ManagedPullSecret.ALL_ACCOUNTS, [], ["builder", "ci", "default"]),
        # A listed account is linked only where it exists; once created, it is chosen too.
        (ManagedPullSecret.LISTED_ACCOUNTS, ["ci", "deployer"], ["ci"]),
    ],
)
def test_chosen_accounts_are_those_that_exist(accounts, names, expected):
    managed = ManagedPullSecret(accounts=accounts, account_names=names)
    assert wanted_accounts(managed, ["default", "ci", "builder"]) == expected
