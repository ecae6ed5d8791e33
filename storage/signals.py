"""A binding whose Ceph keys are not revoked can be neither deleted nor moved to another place,
whichever way it is attempted (the admin, a service, a cascade from its tenant, a shell): its keys
would reach whatever the place's next owner stores there. The admin and the services revoke the
keys first (storage.services.tenant_keys.binding_keys_revoke); this is the net under them."""

from dashboard.core.errors import Conflict
from storage.models import StorageBinding, TenantKeyEntity

PLACE = ("cluster_id", "pool", "namespace")


def _refuse_while_keyed(binding: StorageBinding, change: str) -> None:
    entities = list(TenantKeyEntity.objects.filter(binding=binding).values_list("entity", flat=True))
    if entities:
        raise Conflict(
            f"{binding} cannot be {change} while it has Ceph keys ({', '.join(entities)}): they would reach "
            "whatever the place's next owner stores there. Revoke them first (deleting or changing the binding "
            "in the Django admin does).",
            code="tenant_keys_not_revoked",
        )


def binding_pre_delete(sender: type[StorageBinding], instance: StorageBinding, **kwargs: object) -> None:
    _refuse_while_keyed(instance, "deleted")


def binding_pre_save(
    sender: type[StorageBinding], instance: StorageBinding, raw: bool = False, **kwargs: object
) -> None:
    if raw or instance._state.adding:
        return
    before = StorageBinding.objects.filter(pk=instance.pk).values(*PLACE).first()
    if before and any(before[field] != getattr(instance, field) for field in PLACE):
        _refuse_while_keyed(instance, "moved to another place")
