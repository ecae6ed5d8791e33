"""Ceph client keys for a tenant's own workloads, each confined to one RBD namespace of one pool.

The key is returned once, to the tenant admin who asked for it, and never stored, logged or
recorded by Berth (the audit event names the entity and place, not the key). Revoking removes the
entity from Ceph, so every copy of the key stops working at once.

A key lives as long as its binding and no longer: it is named after the binding's immutable key id
(not the tenant's slug, which can be renamed), recorded in `TenantKeyEntity` before it is minted,
and revoked before its binding is deleted or moved to another place (a binding that still has keys
cannot be deleted or moved: storage/signals.py). Otherwise the key would reach whatever the place's
next owner stores there.

Berth's own cephx client may only create, read and remove entities named
`client.berth-tenant-...` with exactly these caps (see scripts/ceph-dev-cluster), so even a
compromised Berth cannot mint a broader key this way. It may not list entities (`auth ls` answers
with every key, client.admin's included): the records are how Berth finds its keys, and entities
minted before the records existed are added to them with `manage.py tenant_keys_orphaned --adopt`.
"""

import re
from dataclasses import dataclass

from dashboard.audit.services import audit_tenant, audited_action
from dashboard.core.actors import Actor
from dashboard.core.errors import BerthError, Conflict, InvalidInput, NotFound, PermissionDenied
from dashboard.tenancy import services as tenancy
from storage.models import CephCluster, StorageBinding, TenantKeyEntity
from storage.services.bindings import rbd
from storage.services.connection import mon_command, open_ioctx
from storage.services.errors import translate_ceph_errors

ENTITY_PREFIX = "client.berth-tenant-"
# What the monitor's cap for Berth accepts in pool and namespace names of a tenant cap.
_CAP_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_RBD_CAP = re.compile(
    r"profile rbd(?:-read-only)? pool=(?P<pool>[A-Za-z0-9_.-]+)(?: namespace=(?P<namespace>[A-Za-z0-9_.-]+))?"
)
# `profile rbd` as a monitor cap, less what would let the key's holder cut whole hosts or networks off
# the cluster. Blocklisting stays: librbd and the kernel client blocklist a client that died holding an
# image's exclusive lock before taking the lock over (ceph-csi's next node does so after a node failure),
# naming it by address and nonce. But `profile rbd` accepts any digits as the nonce, and nonce 0 (also
# spelt 00, or 4294967296, which wraps to 0) blocklists every client of the address, while the same
# arguments plus `range` blocklist a network whose prefix length is the "nonce". Real nonces are random
# 32-bit numbers; accepting only 129 to 4294967295, without leading zeros, leaves exactly single client
# instances (a range prefix cannot exceed 128 bits, so every range request is refused). A client whose
# nonce happens to be below 129 (one in 33 million) cannot be taken over by a tenant key. `osd blacklist`
# is the name older kernels send. Berth's own cap pins exactly this text (scripts/ceph-dev-cluster).
_NONCE = (
    "(129|1[3-9][0-9]|[2-9][0-9]{2}|[1-9][0-9]{3,8}|[1-3][0-9]{9}|4[01][0-9]{8}|42[0-8][0-9]{7}|429[0-3][0-9]{6}"
    "|4294[0-8][0-9]{5}|42949[0-5][0-9]{4}|429496[0-6][0-9]{3}|4294967[01][0-9]{2}|42949672[0-8][0-9]|429496729[0-5])"
)
_SINGLE_CLIENT = f"^[^/]+/{_NONCE}$"
TENANT_MON_CAP = (
    "allow service mon r, allow service osd r, allow service pg r, "
    f"allow command 'osd blocklist' with blocklistop=add addr regex '{_SINGLE_CLIENT}', "
    f"allow command 'osd blacklist' with blacklistop=add addr regex '{_SINGLE_CLIENT}'"
)
# How keys were named before bindings had a key id: client.berth-tenant-<slug when minted>-<binding pk>.
_LEGACY_NAME = re.compile(rf"{re.escape(ENTITY_PREFIX)}.+-(?P<pk>[0-9]+)")


def tenant_key_entity(binding: StorageBinding) -> str:
    return f"{ENTITY_PREFIX}{binding.key_id}"


def tenant_key_caps(binding: StorageBinding) -> list[str]:
    osd = f"profile rbd pool={binding.pool} namespace={binding.namespace}"
    # The mgr cap lets rbd_support run the namespace's trash purges and background removals.
    return ["mon", TENANT_MON_CAP, "osd", osd, "mgr", osd]


def binding_has_keys(binding: StorageBinding) -> bool:
    """Whether Berth minted keys for the binding that are not revoked yet (a database read only)."""
    return TenantKeyEntity.objects.filter(binding=binding).exists()


def _entity_caps(cluster: CephCluster, entity: str) -> dict[str, str] | None:
    """The entity's caps, or None when Ceph does not know it. (The answer holds the key as well,
    which is dropped here.)"""
    try:
        answer = mon_command(cluster, "auth get", entity=entity, format="json", what=f"looking up {entity}")
    except NotFound:
        return None
    return dict(answer[0].get("caps", {}))


def _place_of(caps: dict[str, str]) -> tuple[str, str] | None:
    found = _RBD_CAP.fullmatch(caps.get("osd", "").strip())
    return (found["pool"], found["namespace"] or "") if found else None


def _revoke(record: TenantKeyEntity) -> None:
    # `auth rm` of an entity Ceph does not know succeeds, so a record of a key removed by hand goes quietly.
    mon_command(record.cluster, "auth rm", entity=record.entity, what=f"revoking the key of {record.entity}")
    record.delete()


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
    records = TenantKeyEntity.objects.filter(binding=binding).select_related("cluster")
    return any(_entity_caps(record.cluster, record.entity) is not None for record in records)


@audited_action("storage.tenant_key.create", target=("binding",))
def tenant_key_create(*, actor: Actor, binding: StorageBinding) -> tuple[str, str]:
    """(entity, key). An existing key is not shown again: revoke it and create a new one."""
    binding = _key_binding(actor, binding)
    entity = tenant_key_entity(binding)
    if tenant_key_exists(actor=actor, binding=binding):
        raise Conflict(
            f"{binding} already has a key, which Berth does not keep and cannot show again. Revoke it "
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
    # Recorded first: a key minted but not recorded could outlive its binding unnoticed.
    TenantKeyEntity.objects.get_or_create(cluster=binding.cluster, entity=entity, defaults={"binding": binding})
    try:
        answer = mon_command(
            binding.cluster,
            "auth get-or-create",
            entity=entity,
            caps=tenant_key_caps(binding),
            format="json",
            what=f"creating the key of {entity}",
        )
    except PermissionDenied as error:
        raise PermissionDenied(
            f"Ceph cluster {binding.cluster.name} does not let Berth's client {binding.cluster.client_name} "
            "create tenant keys with the caps this version of Berth gives them. A platform admin has to update "
            "the client's monitor cap (docs/tenant-keys.md says how).",
            code="tenant_key_caps_refused",
            component="ceph",
        ) from error
    return entity, answer[0]["key"]


@audited_action("storage.tenant_key.revoke", target=("binding",))
def tenant_key_revoke(*, actor: Actor, binding: StorageBinding) -> None:
    binding = _key_binding(actor, binding)
    existed = tenant_key_exists(actor=actor, binding=binding)
    for record in TenantKeyEntity.objects.filter(binding=binding).select_related("cluster"):
        _revoke(record)
    if not existed:
        raise NotFound(f"{binding} has no key to revoke.", code="tenant_key_not_found")


@audited_action("storage.binding.keys_revoke", target=("binding",))
def binding_keys_revoke(*, actor: Actor, binding: StorageBinding) -> None:
    """Revoke every key of a binding that is about to be deleted or moved to another place, or refuse:
    a key left behind would reach whatever the place's next owner stores there."""
    tenancy.require_platform_admin(actor, "delete or move storage bindings")
    audit_tenant(binding.tenant)
    for record in TenantKeyEntity.objects.filter(binding=binding).select_related("cluster"):
        try:
            _revoke(record)
        except BerthError as error:
            raise type(error)(
                f"{binding} is left as it is: its Ceph key {record.entity} has to be revoked first, and "
                f"revoking it failed. {error.message} Retry once the cluster answers. If the cluster is "
                f"gone for good, `manage.py tenant_keys_orphaned --cluster {record.cluster.name} --forget "
                f"{record.entity}` drops Berth's record of the key.",
                code="tenant_key_not_revoked",
                component="ceph",
            ) from error


# --- keys that outlived their binding ----------------------------------------------------------


@dataclass(frozen=True)
class TenantKeyOrphan:
    cluster: str
    entity: str
    pool: str
    namespace: str
    osd_caps: str
    reason: str
    # The tenant that owns the place the key reaches now, if any: whose images the key exposes.
    now_bound_to: str


def _orphan(record: TenantKeyEntity) -> TenantKeyOrphan | None:
    binding = record.binding
    caps = _entity_caps(record.cluster, record.entity)
    if caps is None:
        if binding is None:
            # Removed outside Berth. (A bound record may be one whose key is being minted right now.)
            record.delete()
        return None
    place = _place_of(caps)
    if binding is not None and binding.cluster_id == record.cluster_id and place == (binding.pool, binding.namespace):
        return None
    reason = "its binding was deleted" if binding is None else f"its binding {binding} names another place"
    pool, namespace = place or ("", "")
    owner = StorageBinding.objects.filter(cluster=record.cluster, pool=pool, namespace__in={namespace, ""}).first()
    return TenantKeyOrphan(
        cluster=record.cluster.name,
        entity=record.entity,
        pool=pool,
        namespace=namespace,
        osd_caps=caps.get("osd", ""),
        reason=reason,
        now_bound_to=owner.tenant.slug if owner else "",
    )


def find_orphans(cluster: CephCluster) -> list[TenantKeyOrphan]:
    """The recorded entities Ceph still knows whose binding is gone or now names another place.
    For the platform admins' page and `manage.py tenant_keys_orphaned`, which decide who may ask."""
    records = TenantKeyEntity.objects.filter(cluster=cluster).select_related("cluster", "binding__tenant")
    return [orphan for record in records if (orphan := _orphan(record)) is not None]


def revoke_orphan(cluster: CephCluster, entity: str) -> None:
    record = TenantKeyEntity.objects.filter(cluster=cluster, entity=entity).select_related("binding").first()
    if record is None or _orphan(record) is None:
        raise NotFound(
            f"{entity} is not a key on Ceph cluster {cluster.name} that outlived its binding. A binding's "
            "own key is revoked on its tenant's page.",
            code="tenant_key_orphan_not_found",
        )
    _revoke(record)


def adopt_entity(cluster: CephCluster, entity: str) -> TenantKeyEntity:
    """Record an entity Berth minted before it kept records (found by an operator with
    `ceph auth ls`), tied to the binding it was minted for when its caps still name that
    binding's place, otherwise to none, which makes it an orphan."""
    if not entity.startswith(ENTITY_PREFIX):
        raise InvalidInput(f"{entity} is not a tenant key: their names start with {ENTITY_PREFIX}.")
    caps = _entity_caps(cluster, entity)
    if caps is None:
        raise NotFound(f"Ceph cluster {cluster.name} has no entity {entity}.", code="tenant_key_not_found")
    place = _place_of(caps)
    legacy = _LEGACY_NAME.fullmatch(entity)
    candidates = StorageBinding.objects.filter(cluster=cluster)
    binding = next(
        (
            candidate
            for candidate in candidates
            if (tenant_key_entity(candidate) == entity or (legacy and int(legacy["pk"]) == candidate.pk))
            and place == (candidate.pool, candidate.namespace)
        ),
        None,
    )
    record, created = TenantKeyEntity.objects.get_or_create(
        cluster=cluster, entity=entity, defaults={"binding": binding}
    )
    if not created and record.binding_id != getattr(binding, "pk", None):
        record.binding = binding
        record.save(update_fields=["binding"])
    return record


def forget_entity(cluster: CephCluster, entity: str) -> None:
    """Drop Berth's record of a key without touching Ceph: for a cluster that is gone for good."""
    if not TenantKeyEntity.objects.filter(cluster=cluster, entity=entity).delete()[0]:
        raise NotFound(f"Berth has no record of {entity} on Ceph cluster {cluster.name}.", code="tenant_key_not_found")


def tenant_key_orphan_list(*, actor: Actor, cluster: CephCluster) -> list[TenantKeyOrphan]:
    tenancy.require_platform_admin(actor, "list Ceph keys that outlived their bindings")
    return find_orphans(cluster)


@audited_action("storage.tenant_key.orphan_revoke", target=("cluster", "entity"))
def tenant_key_orphan_revoke(*, actor: Actor, cluster: CephCluster, entity: str) -> None:
    tenancy.require_platform_admin(actor, "revoke Ceph keys that outlived their bindings")
    revoke_orphan(cluster, entity)
