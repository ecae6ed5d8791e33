"""What Berth keeps about a cluster it talks to, whatever kind (Ceph, Kubernetes): a short name,
whether it is the one chosen when a request names none, and when Berth last reached it."""

from datetime import timedelta
from typing import ClassVar, Self, TypeVar

from django.db import models, transaction
from django.utils import timezone

from dashboard.core.errors import NotConfigured, NotFound

# Every successful call reports a contact, but the metrics need it to the minute, not to the call.
CONTACT_WRITE_INTERVAL = timedelta(seconds=15)


class ClusterRecord(models.Model):
    name = models.SlugField(max_length=64, unique=True, help_text="Short name shown in Berth, e.g. 'prod-east'.")
    is_default = models.BooleanField(default=False, help_text="The cluster chosen when a request names none.")
    last_contact = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When a call of any Berth process last succeeded."
    )

    # Declared for the type checker only: Django gives every concrete subclass its default manager.
    objects: ClassVar[models.Manager[Self]]

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


Record = TypeVar("Record", bound=ClusterRecord)


def note_contact(record: ClusterRecord) -> None:
    """Record that a call to `record`'s cluster just succeeded, in the database so that the metrics
    answered by any process see it. Written only when the record says the last one is older than
    CONTACT_WRITE_INTERVAL: records are read afresh for each request, so the cost stays about one
    write per cluster per interval, however many calls and processes there are."""
    moment = timezone.now()
    if record.pk is None or (record.last_contact and moment - record.last_contact < CONTACT_WRITE_INTERVAL):
        return
    record.last_contact = moment
    rows = (
        type(record)
        .objects.filter(pk=record.pk)
        .filter(models.Q(last_contact__isnull=True) | models.Q(last_contact__lt=moment))
    )
    # After the caller's transaction, not inside it: the cluster's row stays unlocked while a request
    # holds its other locks, and a failing write cannot fail the call that succeeded.
    transaction.on_commit(lambda: rows.update(last_contact=moment), robust=True)


def named_or_default(
    model: type[Record], name: str | None, *, missing: NotFound, unconfigured: NotConfigured
) -> Record:
    """The named cluster, else the default one, else the only one there is."""
    if name:
        record = model.objects.filter(name=name).first()
        if record is None:
            raise missing
        return record
    record = model.objects.filter(is_default=True).first()
    if record is None:
        records = list(model.objects.all()[:2])
        record = records[0] if len(records) == 1 else None
    if record is None:
        raise unconfigured
    return record
