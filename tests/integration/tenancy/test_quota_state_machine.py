"""Quotas hold under every sequence of operations: a stateful property-based test.

Hypothesis drives random sequences of create, resize (grow and shrink), snapshot, rollback,
trash, restore, copy, clone (from the tenant's own snapshots and from another tenant's), rename
and purge through Berth's services against the real cluster, for a tenant with small limits.
After every step the tenant's usage is read back with client.admin's own librbd connection, trash
included, independently of Berth, and must be within every limit. A step Berth refuses must be refused
with `quota_exceeded`, and only when what it would add really does not fit.
"""

import itertools
import uuid
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from dashboard.core.errors import BerthError
from dashboard.tasks.models import BackgroundTask
from dashboard.tenancy.models import Membership
from storage.models import StorageQuota
from storage.services import images, snapshots, trash
from tests.helpers import unique_name, wait_for_task

pytestmark = [pytest.mark.integration, pytest.mark.long, pytest.mark.django_db(transaction=True)]

MIB = 1 << 20
GIB = 1 << 30
LIMITS = {"images": 4, "bytes": 2 * GIB, "snapshots": 3, "image_bytes": GIB}
SIZES = st.sampled_from([256 * MIB, 512 * MIB, GIB, 1536 * MIB])
PICK = st.integers(min_value=0, max_value=10**6)


@dataclass
class Image:
    size: int
    id: str = ""
    snapshots: dict[str, int] = field(default_factory=dict)  # name -> size
    protected: set[str] = field(default_factory=set)


@dataclass
class Usage:
    """A tenant namespace as Ceph holds it."""

    live: dict[str, Image]
    trash: dict[str, Image]  # by the name it had

    @property
    def images(self) -> int:
        return len(self.live) + len(self.trash)

    @property
    def bytes(self) -> int:
        return sum(image.size for image in [*self.live.values(), *self.trash.values()])

    @property
    def snapshots(self) -> int:
        return sum(len(image.snapshots) for image in [*self.live.values(), *self.trash.values()])


def read_usage(ceph_admin, place: str) -> Usage:
    """What the namespace holds, read from Ceph with the admin's own connection (not through Berth)."""
    live = {
        name: Image(
            found["size"],
            snapshots={snapshot: size for snapshot, (size, _) in found["snapshots"].items()},
            protected={snapshot for snapshot, (_, protected) in found["snapshots"].items() if protected},
        )
        for name, found in ceph_admin.images(place).items()
    }
    trash = {
        found["name"]: Image(found["size"], id=image_id, snapshots={str(n): 0 for n in range(len(found["snapshots"]))})
        for image_id, found in ceph_admin.trash(place).items()
    }
    return Usage(live, trash)


def pick(items, index: int):
    # Sorted, and every name comes from the run's own counter: the same draws pick the same image
    # when Hypothesis replays a run.
    ordered = sorted(items)
    return ordered[index % len(ordered)]


def fits(usage: Usage, *, images: int = 0, grows_to: int = 0, adds_bytes: int = 0, snapshots: int = 0) -> bool:
    """Whether a change adding this much fits the limits (a limit it does not increase is not checked)."""
    return not (
        (images > 0 and usage.images + images > LIMITS["images"])
        or (adds_bytes > 0 and usage.bytes + adds_bytes > LIMITS["bytes"])
        or (adds_bytes > 0 and grows_to > LIMITS["image_bytes"])
        or (snapshots > 0 and usage.snapshots + snapshots > LIMITS["snapshots"])
    )


class QuotaMachine(RuleBasedStateMachine):
    # Set by the test from its fixtures.
    teams = cluster = ceph_admin = actor = None
    other_source = ""  # an image of tenant B's with a protected snapshot `base`

    def __init__(self):
        super().__init__()
        # Each run starts in an empty namespace of its own, bound to tenant A.
        self.namespace = f"run-{uuid.uuid4().hex[:8]}"
        self.ceph_admin.create_namespace(f"{self.teams.pool}/{self.namespace}")
        self.teams.binding_a.namespace = self.namespace
        self.teams.binding_a.save()
        self.place = f"{self.teams.pool}/{self.namespace}"
        self.usage = read_usage(self.ceph_admin, self.place)
        self.names = itertools.count()

    def fresh(self, prefix: str) -> str:
        return f"{prefix}-{next(self.names)}"

    def where(self) -> dict:
        return {"actor": self.actor, "cluster": self.cluster, "pool": self.teams.pool, "namespace": self.namespace}

    def attempt(self, call, *, fitting: bool, task_may_fail: bool = False) -> None:
        """Run a step; a refusal must be `quota_exceeded`, and only for a change that does not fit."""
        try:
            result = call()
        except BerthError as error:
            assert error.code == "quota_exceeded", f"{error.code}: {error.message}"
            assert not fitting, f"refused although it fits: {error.message}"
            return
        assert fitting, "a change that does not fit the quota went through"
        if isinstance(result, BackgroundTask):
            finished = wait_for_task(result)
            assert finished.status == BackgroundTask.SUCCEEDED or task_may_fail, finished.message

    # --- the operations ------------------------------------------------------------------------

    @rule(size=SIZES)
    def create(self, size):
        fitting = fits(self.usage, images=1, grows_to=size, adds_bytes=size)
        self.attempt(lambda: images.image_create(**self.where(), name=self.fresh("img"), size=size), fitting=fitting)

    @precondition(lambda self: self.usage.live)
    @rule(index=PICK, size=SIZES)
    def resize(self, index, size):
        name = pick(self.usage.live, index)
        current = self.usage.live[name].size
        fitting = fits(self.usage, grows_to=size, adds_bytes=size - current)
        self.attempt(
            lambda: images.image_resize(**self.where(), name=name, size=size, allow_shrink=True), fitting=fitting
        )

    @precondition(lambda self: self.usage.live)
    @rule(index=PICK)
    def snapshot(self, index):
        name = pick(self.usage.live, index)
        self.attempt(
            lambda: snapshots.snapshot_create(**self.where(), image=name, snapshot=self.fresh("snap")),
            fitting=fits(self.usage, snapshots=1),
        )

    @precondition(lambda self: any(image.snapshots for image in self.usage.live.values()))
    @rule(index=PICK, snapshot_index=PICK)
    def rollback(self, index, snapshot_index):
        name = pick([name for name, image in self.usage.live.items() if image.snapshots], index)
        image = self.usage.live[name]
        snapshot = pick(image.snapshots, snapshot_index)
        size = image.snapshots[snapshot]
        self.attempt(
            lambda: snapshots.snapshot_rollback(**self.where(), image=name, snapshot=snapshot),
            fitting=fits(self.usage, grows_to=size, adds_bytes=size - image.size),
        )

    @precondition(lambda self: self.usage.live)
    @rule(index=PICK)
    def trash(self, index):
        name = pick(self.usage.live, index)
        self.attempt(lambda: images.image_delete(**self.where(), name=name), fitting=True)

    @precondition(lambda self: self.usage.trash)
    @rule(index=PICK)
    def restore(self, index):
        image_id = self.usage.trash[pick(self.usage.trash, index)].id
        self.attempt(
            lambda: trash.trash_restore(**self.where(), image_id=image_id, new_name=self.fresh("restored")),
            fitting=True,
        )

    @precondition(lambda self: self.usage.trash)
    @rule(index=PICK)
    def purge(self, index):
        image_id = self.usage.trash[pick(self.usage.trash, index)].id
        # An image whose snapshots still have clones cannot go for good.
        self.attempt(lambda: trash.trash_purge(**self.where(), image_id=image_id), fitting=True, task_may_fail=True)

    @precondition(lambda self: self.usage.live)
    @rule(index=PICK)
    def rename(self, index):
        name = pick(self.usage.live, index)
        self.attempt(
            lambda: images.image_rename(**self.where(), name=name, new_name=self.fresh("renamed")), fitting=True
        )

    @precondition(lambda self: self.usage.live)
    @rule(index=PICK)
    def copy(self, index):
        name = pick(self.usage.live, index)
        size = self.usage.live[name].size
        self.attempt(
            lambda: images.image_copy(
                **self.where(),
                name=name,
                dest_pool=self.teams.pool,
                dest_namespace=self.namespace,
                dest_name=self.fresh("copy"),
            ),
            fitting=fits(self.usage, images=1, grows_to=size, adds_bytes=size),
        )

    @precondition(lambda self: any(image.snapshots for image in self.usage.live.values()))
    @rule(index=PICK, snapshot_index=PICK)
    def clone(self, index, snapshot_index):
        name = pick([name for name, image in self.usage.live.items() if image.snapshots], index)
        image = self.usage.live[name]
        snapshot = pick(image.snapshots, snapshot_index)
        if snapshot not in image.protected:
            snapshots.snapshot_protect(**self.where(), image=name, snapshot=snapshot)
        size = image.snapshots[snapshot]
        self.attempt(
            lambda: snapshots.image_clone(
                **self.where(),
                image=name,
                snapshot=snapshot,
                dest_pool=self.teams.pool,
                dest_namespace=self.namespace,
                dest_name=self.fresh("clone"),
            ),
            fitting=fits(self.usage, images=1, grows_to=size, adds_bytes=size),
        )

    @rule()
    def clone_from_another_tenant(self):
        self.attempt(
            lambda: snapshots.image_clone(
                actor=self.actor,
                cluster=self.cluster,
                pool=self.teams.pool,
                namespace="team-b",
                image=self.other_source,
                snapshot="base",
                dest_pool=self.teams.pool,
                dest_namespace=self.namespace,
                dest_name=self.fresh("from-b"),
            ),
            fitting=fits(self.usage, images=1, grows_to=512 * MIB, adds_bytes=512 * MIB),
        )

    # --- after every step ------------------------------------------------------------------------

    @invariant()
    def within_quota(self):
        self.usage = read_usage(self.ceph_admin, self.place)
        assert self.usage.images <= LIMITS["images"]
        assert self.usage.bytes <= LIMITS["bytes"]
        assert self.usage.snapshots <= LIMITS["snapshots"]
        assert all(image.size <= LIMITS["image_bytes"] for image in self.usage.live.values())


def test_no_sequence_of_operations_takes_a_tenant_past_its_quota(teams, ceph_cluster, ceph_admin):
    StorageQuota.objects.filter(tenant=teams.a).update(
        max_images=LIMITS["images"],
        max_provisioned_gib=LIMITS["bytes"] // GIB,
        max_image_gib=LIMITS["image_bytes"] // GIB,
        max_snapshots=LIMITS["snapshots"],
    )
    # Tenant A's admin (trash and purge need it), who may also take images out of tenant B.
    actor = get_user_model().objects.create_user(unique_name("stateful"), password="pw-not-used-0")
    Membership.objects.create(user=actor, tenant=teams.a, role="admin")
    Membership.objects.create(user=actor, tenant=teams.b, role="operator")
    other_source = unique_name("b-source")
    spec = f"{teams.pool}/team-b/{other_source}"
    ceph_admin.create_image(spec, "512M", snapshots=("base",), protected=("base",))

    QuotaMachine.teams, QuotaMachine.cluster, QuotaMachine.ceph_admin = teams, ceph_cluster, ceph_admin
    QuotaMachine.actor, QuotaMachine.other_source = actor, other_source
    run_state_machine_as_test(
        QuotaMachine,
        settings=settings(
            max_examples=4,
            stateful_step_count=15,
            deadline=None,
            database=None,
            # Shrinking replays runs against the cluster many times over; a failing run of at most
            # 15 steps is short enough to read as it is.
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
