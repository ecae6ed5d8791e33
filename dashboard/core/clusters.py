"""What Berth keeps about a cluster it talks to, whatever kind (Ceph, Kubernetes): a short name and
whether it is the one chosen when a request names none."""

from typing import ClassVar, Self, TypeVar

from django.db import models

from dashboard.core.errors import NotConfigured, NotFound


class ClusterRecord(models.Model):
    name = models.SlugField(max_length=64, unique=True, help_text="Short name shown in Berth, e.g. 'prod-east'.")
    is_default = models.BooleanField(default=False, help_text="The cluster chosen when a request names none.")

    # Declared for the type checker only: Django gives every concrete subclass its default manager.
    objects: ClassVar[models.Manager[Self]]

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


Record = TypeVar("Record", bound=ClusterRecord)


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
