"""Ceph client keys for a tenant's own workloads, each confined to one RBD namespace of one pool.

The key is returned once, to the tenant admin who asked for it, and never stored, logged or
recorded by Berth (the audit event names the entity and place, not the key). Revoking removes the
entity from Ceph, so every copy of the key stops working at once.

Berth's own cephx client may only create, read and remove entities named
`client.berth-tenant-...` with exactly these caps (see scripts/ceph-dev-cluster), so even a
compromised Berth cannot mint a broader key this way.
"""

import re

from dashboard.audit.services import audit_tenant, audited_action
from dashboard.core.actors import Actor
from dashboard.core.errors import Conflict, InvalidInput, NotFound
from dashboard.tenancy import services as tenancy
from storage.models import StorageBinding
from storage.services.bindings import rbd
from storage.services.connection import mon_command, open_ioctx
from storage.services.errors import translate_ceph_errors

ENTITY_PREFIX = "client.berth-tenant-"
# What the monitor's cap for Berth accepts in pool and namespace names of a tenant cap.
_CAP_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def tenant_key_entity(binding: StorageBinding) -> str:
    return f"{ENTITY_PREFIX}{binding.tenant.slug}-{binding.pk}"


def tenant_key_caps(binding: StorageBinding) -> list[str]:
    osd = f"profile rbd pool={binding.pool} namespace={binding.namespace}"
    # The mgr cap lets rbd_support run the namespace's trash purges and background removals.
    return ["mon", "profile rbd", "osd", osd, "mgr", osd]


def _key_binding(actor: Actor, binding: StorageBinding) -> StorageBinding:
    tenancy.require_role(actor, binding.tenant, tenancy.ADMIN)
    audit_tenant(binding.tenant)
    if binding.is_whole_pool:
        raise InvalidInput(
            f"Tenant keys are confined to one RBD namespace; {binding} is a whole pool. Bind a "
            "namespace of it to the tenant and create the key for that.",
            code="tenant_key_needs_namespace",
            extra={"field": "binding"},
        )
    for value, field in ((binding.pool, "pool"), (binding.namespace, "namespace")):
        if not _CAP_NAME.fullmatch(value):
            raise InvalidInput(
                f"{field}: {value!r} cannot be named in a Ceph cap (letters, digits, '_', '.', '-' only).",
                code="tenant_key_unsupported_name",
                extra={"field": field},
            )
    return binding


def tenant_key_exists(*, actor: Actor, binding: StorageBinding) -> bool:
    tenancy.require_role(actor, binding.tenant, tenancy.VIEWER)
    try:
        mon_command(
            binding.cluster,
            "auth get",
            entity=tenant_key_entity(binding),
            format="json",
            what=f"looking up {tenant_key_entity(binding)}",
        )
    except NotFound:
        return False
    return True


@audited_action("storage.tenant_key.create", target=("binding",))
def tenant_key_create(*, actor: Actor, binding: StorageBinding) -> tuple[str, str]:
    """(entity, key). An existing key is not shown again: revoke it and create a new one."""
    binding = _key_binding(actor, binding)
    entity = tenant_key_entity(binding)
    if tenant_key_exists(actor=actor, binding=binding):
        raise Conflict(
            f"{entity} already has a key, which Berth does not keep and cannot show again. Revoke it "
            "and create a new one.",
            code="tenant_key_exists",
        )
    # librbd validates a pool on its first image creation by writing `rbd_info` in the pool's default
    # namespace, which a namespace-confined key may not touch: do it now, with Berth's own key.
    with (
        open_ioctx(binding.cluster, binding.pool) as ioctx,
        translate_ceph_errors(binding.cluster.name, f"initialising pool {binding.pool} for RBD"),
    ):
        rbd.RBD().pool_init(ioctx, False)
    answer = mon_command(
        binding.cluster,
        "auth get-or-create",
        entity=entity,
        caps=tenant_key_caps(binding),
        format="json",
        what=f"creating the key of {entity}",
    )
    return entity, answer[0]["key"]


@audited_action("storage.tenant_key.revoke", target=("binding",))
def tenant_key_revoke(*, actor: Actor, binding: StorageBinding) -> None:
    binding = _key_binding(actor, binding)
    entity = tenant_key_entity(binding)
    if not tenant_key_exists(actor=actor, binding=binding):
        raise NotFound(f"{entity} has no key to revoke.", code="tenant_key_not_found")
    mon_command(binding.cluster, "auth rm", entity=entity, what=f"revoking the key of {entity}")
