"""Room in a tenant's quota, reserved without holding a lock across Ceph or Kubernetes I/O.

A quota check needs the tenant's current usage, which only the backend knows, and the change it
guards must not race another change that passed its own check meanwhile. Holding a database
transaction from the usage read to the end of the change serialises that, but on SQLite it blocks
every write in Berth for the duration of the backend call, and on any database it ties a row lock
to a cluster that may take seconds to answer.

Instead a change goes through three short steps, none of which holds a transaction across I/O:

1. Observe the backend (usage read, no transaction).
2. Admit: in one short transaction holding the tenant's ledger row, check the observation plus
   every reservation still held against the limits, and write a reservation describing what
   the change will leave behind. The reservation rows are the shared truth across processes.
3. Change the backend, then settle: delete the reservation and count the settlement on the
   ledger row, in one short transaction.

An observation is only used if no change settled since it began (the ledger's `settled` count
is read before observing and compared inside the admitting transaction); otherwise it is taken
again. A change still in flight keeps its reservation and is counted from it; one that settled
before the observation began is in the observation. Each reservation is counted by what it adds
to the observation (a feature app's `extra`), so a change the observation already shows is not
counted twice.

A reservation names its owner (host and process) and expires: the room of a process that died
mid-change, before it could settle, is free again after `BERTH_QUOTA_RESERVATION_SECONDS`.
"""

import logging
import os
import random
import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, models, transaction
from django.db.models import F
from django.utils import timezone

from dashboard.core.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

OWNER = f"{socket.gethostname()}:{os.getpid()}"
# How long a reservation holds room unless its owner settles or renews it first. Far longer than
# any guarded backend call (bounded by the client timeouts), short enough that a crashed process
# does not keep a tenant's room for long.
DEFAULT_TTL_SECONDS = 300
# Give up re-observing after this long: something keeps settling changes faster than one can look.
ADMIT_DEADLINE_SECONDS = 30

Observation = TypeVar("Observation")
Admitted = TypeVar("Admitted")


def current_owner() -> str:
    return OWNER


def reservation_ttl() -> timedelta:
    return timedelta(seconds=getattr(settings, "BERTH_QUOTA_RESERVATION_SECONDS", DEFAULT_TTL_SECONDS))


def reservation_expiry() -> datetime:
    return timezone.now() + reservation_ttl()


class QuotaLedger(models.Model):
    """One row per tenant that every admission locks; `settled` counts the changes that finished."""

    tenant = models.OneToOneField("tenancy.Tenant", on_delete=models.CASCADE, primary_key=True, related_name="+")
    settled = models.PositiveBigIntegerField(default=0)

    class Meta:
        abstract = True


class Reservation(models.Model):
    """Room one change holds until it settles or `expires_at` passes."""

    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="+")
    owner = models.CharField(
        max_length=255, default=current_owner, help_text="host:pid of the process making the change"
    )
    expires_at = models.DateTimeField(default=reservation_expiry, db_index=True)

    class Meta:
        abstract = True


def admit(
    *,
    ledger: type[QuotaLedger],
    tenant: Any,
    observe: Callable[[], Observation],
    decide: Callable[[Observation], Admitted],
) -> Admitted:
    """Observe the backend, then call `decide(observation)` inside a short transaction that holds
    the tenant's ledger row; `decide` checks the limits and writes the reservation (or raises).

    Retried with a fresh observation while changes settle in between, so `decide` never judges
    by a usage read that a finished change has outdated.
    """
    # The row as created or found is the first look at `settled`; a retry looks again.
    seen = ledger._default_manager.get_or_create(tenant=tenant)[0].settled
    ttl = reservation_ttl().total_seconds()
    deadline = time.monotonic() + ADMIT_DEADLINE_SECONDS
    while True:
        observed_at = time.monotonic()
        observation = observe()
        with transaction.atomic():
            settled = (
                ledger._default_manager.select_for_update()
                .filter(tenant=tenant)
                .values_list("settled", flat=True)
                .get()
            )
            # A reservation that expired while we looked may have belonged to a change the observation missed.
            if settled == seen and time.monotonic() - observed_at < ttl / 2:
                return decide(observation)
        if time.monotonic() > deadline:
            raise ServiceUnavailable(
                f"Tenant {tenant.slug}'s usage kept changing while Berth checked its quota; try again.",
                code="quota_busy",
            )
        # Others are settling: step aside briefly so the retries do not all collide again.
        time.sleep(random.uniform(0, 0.02))
        seen = ledger._default_manager.filter(tenant=tenant).values_list("settled", flat=True).get()


def settle(*, ledger: type[QuotaLedger], reservation: Reservation) -> None:
    """Release the reservation once its change is done (or failed), and count the settlement so
    an admission whose observation predates the change looks again."""
    try:
        with transaction.atomic():
            ledger._default_manager.filter(tenant_id=reservation.tenant_id).update(settled=F("settled") + 1)
            type(reservation)._default_manager.filter(pk=reservation.pk).delete()
    except DatabaseError:
        # The change itself is done; the reservation holds room only until it expires.
        logger.warning(
            "could not release quota reservation %s of tenant %s; it lapses at %s",
            reservation.pk,
            reservation.tenant_id,
            reservation.expires_at,
            exc_info=True,
        )


def renew(reservation: Reservation) -> bool:
    """Extend a reservation its owner still holds; False once it has lapsed (or was released)."""
    expires_at = reservation_expiry()
    still_held = type(reservation)._default_manager.filter(pk=reservation.pk, expires_at__gt=timezone.now())
    renewed = still_held.update(expires_at=expires_at, owner=OWNER)
    if renewed:
        reservation.expires_at, reservation.owner = expires_at, OWNER
    return bool(renewed)
