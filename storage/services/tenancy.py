"""Which tenant owns which pool or RBD namespace, and whether a storage change fits its quota.

Built on the core tenancy rules (dashboard/tenancy/services.py) and called by every storage
service: a place outside the actor's tenants answers like one that does not exist, and a change
that would take a tenant over a limit is refused before it reaches Ceph.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import overload

from django.db.models import QuerySet
from django.utils import timezone

from dashboard.audit.services import audit_tenant
from dashboard.core.actors import Actor
from dashboard.tasks.models import BackgroundTask
from dashboard.tenancy import reservations
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Tenant
from storage.models import CephCluster, QuotaReservation, StorageBinding, StorageQuota, StorageQuotaLedger
from storage.services.connection import NotFoundImage, image_spec
from storage.services.tenant_usage import ObservedImage, StorageObservation, StorageUsage, storage_observe

GIB = 1 << 30


# --- Storage places ----------------------------------------------------------------------------


def binding_for(cluster: CephCluster, pool: str, namespace: str) -> StorageBinding | None:
    """The binding that owns a place: its namespace's, else its whole pool's (its tenant loaded with it)."""
    bindings = {binding.namespace: binding for binding in _bindings_with_tenants(cluster, pool, {namespace, ""})}
    return bindings.get(namespace) or bindings.get("")


def _bindings_with_tenants(cluster: CephCluster, pool: str, namespaces: set[str]) -> list[StorageBinding]:
    # Written by hand: every storage call looks its place up first, and the ORM spent four times the query's
    # own time building it (select_related, and a join to the cluster table for the model's default ordering).
    # A raw query still converts each column as the ORM would (the binding's key_id is a UUID).
    tenant_fields = Tenant._meta.concrete_fields
    tenant_columns = ", ".join(f"t.{field.column} AS tenant__{field.attname}" for field in tenant_fields)
    found = StorageBinding.objects.raw(
        f"SELECT b.*, {tenant_columns} FROM {StorageBinding._meta.db_table} b "
        f"JOIN {Tenant._meta.db_table} t ON t.id = b.tenant_id "
        f"WHERE b.cluster_id = %s AND b.pool = %s AND b.namespace IN ({', '.join(['%s'] * len(namespaces))})",
        [cluster.pk, pool, *namespaces],
    )
    bindings = list(found)
    for binding in bindings:
        binding.tenant = Tenant.from_db(
            found.db,
            [field.attname for field in tenant_fields],
            [getattr(binding, f"tenant__{field.attname}") for field in tenant_fields],
        )
    return bindings


def _place_name(pool: str, namespace: str) -> str:
    return f"Pool {pool} namespace {namespace}" if namespace else f"Pool {pool}"


def storage_scope(
    *, actor: Actor, cluster: CephCluster, pool: str, namespace: str = "", role: str = tenancy.VIEWER
) -> Tenant | None:
    """The tenant owning pool/namespace (None: no tenant's), once the actor may act there with `role`.

    Tenant users get 404 for places outside their tenants; platform admins may act anywhere, and
    when they act in a tenant's place the tenant's quota still applies.
    """
    binding = binding_for(cluster, pool, namespace)
    tenant = binding.tenant if binding else None
    if not tenancy.is_platform_admin(actor):
        held = tenancy.role_in(actor, tenant) if tenant is not None else None
        if tenant is None or held is None:
            # The event must not name the tenant either: that would tell the log reader whose place it is,
            # which is fine, but it must not differ between "exists" and "does not exist" for the caller.
            raise tenancy.deny_access(
                actor, _place_name(pool, namespace), {"cluster": str(cluster), "pool": pool, "namespace": namespace}
            )
        audit_tenant(tenant)
        tenancy.require_rank(tenant, held, role)
    elif tenant is not None:
        audit_tenant(tenant)
    return tenant


def visible_pools(actor: Actor, cluster: CephCluster) -> set[str] | None:
    """Pools the actor may list (None: all of them)."""
    if tenancy.is_platform_admin(actor):
        return None
    return set(
        StorageBinding.objects.filter(cluster=cluster, tenant__in=tenancy.tenants_for(actor)).values_list(
            "pool", flat=True
        )
    )


def visible_namespaces(actor: Actor, cluster: CephCluster, pool: str) -> set[str] | None:
    """Namespaces of `pool` the actor may list (None: all of them, as its owner or a platform admin).
    A pool the actor has nothing in is a 404."""
    if tenancy.is_platform_admin(actor):
        return None
    owned = StorageBinding.objects.filter(cluster=cluster, pool=pool, tenant__in=tenancy.tenants_for(actor))
    namespaces = set(owned.values_list("namespace", flat=True))
    if not namespaces:
        raise tenancy.deny_access(actor, _place_name(pool, ""), {"cluster": str(cluster), "pool": pool})
    return None if "" in namespaces else namespaces


def storage_places(tenant: Tenant) -> list[tuple[CephCluster, str, str | None]]:
    """(cluster, pool, namespace) of each binding; namespace None for a whole pool."""
    return [
        (binding.cluster, binding.pool, binding.namespace or None)
        for binding in tenant.storage_bindings.select_related("cluster")
    ]


@dataclass(frozen=True)
class StorageRequest:
    """What a change would add to the tenant's usage."""

    images: int = 0
    provisioned_bytes: int = 0
    largest_image_bytes: int = 0
    snapshots: int = 0


@overload
def gib_to_bytes(value: int) -> int: ...


@overload
def gib_to_bytes(value: None) -> None: ...


def gib_to_bytes(value: int | None) -> int | None:
    return None if value is None else value * GIB


def storage_limit_checks(quota: StorageQuota, usage: StorageUsage, request: StorageRequest) -> list[tenancy.LimitCheck]:
    """Each limit the request increases. Limits it does not increase are not checked at all, so a
    tenant already over a lowered limit can still shrink and delete (as Cinder does)."""
    checks = []
    if request.images > 0:
        checks.append(tenancy.LimitCheck("max_images", "images", usage.images, quota.max_images, request.images))
    if request.provisioned_bytes > 0:
        checks.append(
            tenancy.LimitCheck(
                "max_provisioned_gib",
                "provisioned storage",
                usage.provisioned_bytes,
                gib_to_bytes(quota.max_provisioned_gib),
                request.provisioned_bytes,
                is_bytes=True,
            )
        )
    if request.largest_image_bytes > 0:
        checks.append(
            tenancy.LimitCheck(
                "max_image_gib",
                "images",
                0,
                gib_to_bytes(quota.max_image_gib),
                request.largest_image_bytes,
                is_bytes=True,
                per_item=True,
            )
        )
    if request.snapshots > 0:
        checks.append(
            tenancy.LimitCheck("max_snapshots", "snapshots", usage.snapshots, quota.max_snapshots, request.snapshots)
        )
    return checks


def _held_reservations(tenant: Tenant) -> QuerySet[QuotaReservation]:
    return QuotaReservation.objects.filter(tenant=tenant, expires_at__gt=timezone.now()).exclude(
        task__status__in=(BackgroundTask.SUCCEEDED, BackgroundTask.FAILED)
    )


def _image_key(reservation: QuotaReservation) -> tuple[object, ...]:
    if reservation.image_id:
        return ("id", reservation.cluster_id, reservation.pool, reservation.image_id)
    return ("name", reservation.cluster_id, reservation.pool, reservation.namespace, reservation.image_name)


def _observed(reservation: QuotaReservation, observation: StorageObservation) -> ObservedImage | None:
    if reservation.image_id:
        return observation.image(reservation.cluster_id, reservation.pool, reservation.image_id)
    return observation.live_image(
        reservation.cluster_id, reservation.pool, reservation.namespace, reservation.image_name
    )


def in_flight(held: Iterable[QuotaReservation], observation: StorageObservation) -> StorageUsage:
    """What changes in flight add to what Ceph showed: the part of them Ceph does not show yet.

    Each reservation names what its image will have at least, so several on one image need the
    largest of them: two resizes in flight need the larger size, not the sum, and a snapshot's
    reservation already includes the snapshots others are adding to the same image.
    """
    by_image: dict[tuple[object, ...], list[QuotaReservation]] = defaultdict(list)
    for reservation in held:
        by_image[_image_key(reservation)].append(reservation)
    total = StorageUsage()
    for reservations_of_image in by_image.values():
        size = max(reservation.size for reservation in reservations_of_image)
        snapshots = max(reservation.snapshots for reservation in reservations_of_image)
        current = _observed(reservations_of_image[0], observation)
        if current is None:
            total += StorageUsage(1, size, snapshots)
        else:
            total += StorageUsage(0, max(0, size - current.size), max(0, snapshots - current.snapshots))
    return total


def tenant_storage_observe(tenant: Tenant) -> StorageObservation:
    return storage_observe(places=storage_places(tenant))


def tenant_storage_usage(tenant: Tenant) -> StorageUsage:
    """Usage from Ceph (trash included), plus what changes still in flight will add to it."""
    observation = tenant_storage_observe(tenant)
    return observation.usage + in_flight(_held_reservations(tenant), observation)


@dataclass(frozen=True)
class ImageChange:
    """What a change leaves behind in one image of a tenant's place."""

    cluster: CephCluster
    pool: str
    namespace: str
    name: str
    # Bytes the image will have; None: its size stays.
    size: int | None = None
    # The change makes the image (create, copy, clone).
    creates: bool = False
    # The change adds a snapshot to the image.
    adds_snapshot: bool = False
    # Restore: the trash entry (an image already counted, by its id) that becomes `name`.
    trash_id: str = ""

    @property
    def spec(self) -> str:
        return image_spec(self.pool, self.namespace, self.name)


def _reservation_for(
    tenant: Tenant, change: ImageChange, observation: StorageObservation, held: list[QuotaReservation]
) -> QuotaReservation:
    reservation = QuotaReservation(tenant=tenant, cluster=change.cluster, pool=change.pool, namespace=change.namespace)
    if change.creates:
        reservation.image_name, reservation.size = change.name, change.size or 0
        return reservation
    cluster_id = change.cluster.pk
    if change.trash_id:
        current = observation.image(cluster_id, change.pool, change.trash_id)
    else:
        current = observation.live_image(cluster_id, change.pool, change.namespace, change.name)
    if current is None:
        raise NotFoundImage(f"Image {change.spec} does not exist.")
    reservation.image_id = current.id
    reservation.size = current.size if change.size is None else change.size
    reservation.snapshots = current.snapshots
    if change.adds_snapshot:
        # On top of the snapshots other changes in flight are adding to this image: each reservation
        # names the total it leaves behind, so two snapshots at once need two more.
        reservation.snapshots = 1 + max(
            [current.snapshots] + [other.snapshots for other in held if _image_key(other) == _image_key(reservation)]
        )
    return reservation


def _admit(tenant: Tenant, change: ImageChange, observation: StorageObservation) -> QuotaReservation:
    """Inside the admitting transaction: check the limits against Ceph plus every change in flight,
    then hold the room this change needs."""
    lapsed = QuotaReservation.objects.filter(tenant=tenant).exclude(pk__in=_held_reservations(tenant).values("pk"))
    lapsed.delete()
    held = list(_held_reservations(tenant))
    usage = observation.usage + in_flight(held, observation)
    reservation = _reservation_for(tenant, change, observation, held)
    adds = in_flight([*held, reservation], observation) - in_flight(held, observation)
    request = StorageRequest(
        images=adds.images,
        provisioned_bytes=adds.provisioned_bytes,
        largest_image_bytes=reservation.size if adds.provisioned_bytes else 0,
        snapshots=adds.snapshots,
    )
    quota = StorageQuota.objects.filter(tenant=tenant).first()
    if quota is not None:
        for check in storage_limit_checks(quota, usage, request):
            if check.excess:
                raise tenancy.quota_error(tenant, check)
    reservation.save()
    return reservation


_UNLIMITED = {"max_images": None, "max_provisioned_gib": None, "max_image_gib": None, "max_snapshots": None}


def storage_reserve(*, tenant: Tenant | None, change: ImageChange) -> QuotaReservation | None:
    """Hold room in the tenant's storage quota for `change`, or refuse it with `quota_exceeded`.

    None when nothing needs holding: the place is no tenant's, or the tenant has no limits. The
    caller makes the change and then calls `storage_release`, whatever the outcome.
    """
    if tenant is None or not StorageQuota.objects.filter(tenant=tenant).exclude(**_UNLIMITED).exists():
        return None
    return reservations.admit(
        ledger=StorageQuotaLedger,
        tenant=tenant,
        observe=lambda: tenant_storage_observe(tenant),
        decide=lambda observation: _admit(tenant, change, observation),
    )


def storage_release(reservation: QuotaReservation | None) -> None:
    if reservation is not None:
        reservations.settle(ledger=StorageQuotaLedger, reservation=reservation)


def storage_renew(reservation: QuotaReservation | None, change: ImageChange) -> QuotaReservation | None:
    """For a background task about to make its change: keep the room reserved when it was
    queued, or, if that reservation lapsed meanwhile, check the quota again and reserve afresh."""
    if reservation is None or reservations.renew(reservation):
        return reservation
    return storage_reserve(tenant=reservation.tenant, change=change)


def storage_hold_for_task(reservation: QuotaReservation | None, task: BackgroundTask) -> None:
    """Tie a reservation to the task that makes its change, so it stops counting once the task has
    finished. A task joined rather than started (the same copy already queued) holds room of its
    own; this reservation is released instead."""
    if reservation is None:
        return
    if QuotaReservation.objects.filter(task=task).exists():
        storage_release(reservation)
    else:
        QuotaReservation.objects.filter(pk=reservation.pk).update(task=task)


@contextmanager
def quota_guard(*, tenant: Tenant | None, change: ImageChange) -> Iterator[None]:
    """Run the enclosed Ceph change only if what it leaves behind fits the tenant's storage quota.

    No lock or transaction is held while Ceph works: the room is reserved first (a short
    transaction, see dashboard/tenancy/reservations.py) and released once the change is done, so
    concurrent changes of one tenant cannot together pass a limit each would fit alone, and a slow
    cluster holds up nobody else's database writes.
    """
    reservation = storage_reserve(tenant=tenant, change=change)
    try:
        yield
    finally:
        storage_release(reservation)
