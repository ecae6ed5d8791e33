"""Binding a pool or an RBD namespace to a tenant, and unbinding it (platform admins).

Binding a namespace that does not exist yet creates it, in the same audited step, so a tenant is
never given a place its members cannot use. Unbinding revokes the binding's Ceph keys first (a key
left behind would reach whatever the place's next owner stores there) and is refused while the
place still holds images, unless the admin keeps them: they stay in Ceph, no longer counted for
the tenant nor reachable by its members.

Deleting a tenant asks this module what it still owns in Ceph, and revokes its keys before its
bindings go (registered in StorageConfig.ready with the core's `register_tenant_holdings`).
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from dashboard.audit.services import audit_result, audit_tenant, audited_action
from dashboard.core.actors import Actor
from dashboard.core.errors import Conflict
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Tenant
from storage.models import CephCluster, StorageBinding
from storage.services.bindings import rbd
from storage.services.connection import open_ioctx
from storage.services.errors import translate_ceph_errors
from storage.services.quotas import tenant_pool_quotas_apply
from storage.services.tenancy import tenant_storage_observe
from storage.services.tenant_keys import binding_has_keys, binding_keys_revoke
from storage.services.tenant_usage import storage_observe
from storage.validation import validate_namespace, validate_object_name


def _place(pool: str, namespace: str) -> str:
    return f"pool {pool} namespace {namespace}" if namespace else f"pool {pool}"


def _refuse_clash(binding: StorageBinding) -> None:
    taken = StorageBinding.objects.filter(cluster=binding.cluster, pool=binding.pool, namespace=binding.namespace)
    owner = taken.select_related("tenant").first()
    if owner is not None:
        whose = "this tenant" if owner.tenant_id == binding.tenant_id else f"tenant {owner.tenant.slug}"
        raise Conflict(
            f"{_place(binding.pool, binding.namespace).capitalize()} of {binding.cluster} is bound to {whose} "
            "already. Unbind it there first to give it to another tenant.",
            code="binding_exists",
            extra={"field": "namespace" if binding.namespace else "pool"},
        )
    try:
        # The model's clean(): a pool and the namespaces in it belong to one tenant at most.
        binding.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise Conflict(" ".join(error.messages), code="binding_clash") from None


@audited_action("storage.binding.create", target=("tenant", "cluster", "pool", "namespace"))
def storage_binding_create(
    *, actor: Actor, tenant: Tenant, cluster: CephCluster, pool: str, namespace: str = ""
) -> StorageBinding:
    """Give the tenant a whole pool (namespace "") or one RBD namespace of it, creating the namespace
    when it does not exist; the event says whether it did (`namespace_created`)."""
    tenancy.require_platform_admin(actor, "bind storage to tenants")
    validate_object_name(pool, field="pool")
    namespace = validate_namespace(namespace)
    binding = StorageBinding(tenant=tenant, cluster=cluster, pool=pool, namespace=namespace)
    _refuse_clash(binding)
    created = False
    # open_ioctx answers 404 for a pool Ceph does not have, and 503 while the cluster does not answer.
    with open_ioctx(cluster, pool) as ioctx, translate_ceph_errors(cluster.name, f"binding {_place(pool, namespace)}"):
        if namespace and namespace not in rbd.RBD().namespace_list(ioctx):
            rbd.RBD().namespace_create(ioctx, namespace)
            created = True
    audit_result(namespace_created=created)
    try:
        with transaction.atomic():
            binding.save()
    except IntegrityError:
        raise Conflict(
            f"{_place(pool, namespace).capitalize()} of {cluster} was bound to another tenant meanwhile.",
            code="binding_exists",
        ) from None
    if binding.is_whole_pool:
        # Ceph's own pool quota backs up Berth's check for whole pools a tenant owns.
        tenant_pool_quotas_apply(actor=actor, tenant=tenant)
    return binding


def _images_in(binding: StorageBinding) -> int:
    """Images of the place, live and in the trash (a whole pool: every namespace in it)."""
    return storage_observe(places=[(binding.cluster, binding.pool, binding.namespace or None)]).usage.images


@audited_action("storage.binding.delete", target=("binding",), params=("keep_images",))
def storage_binding_delete(*, actor: Actor, binding: StorageBinding, keep_images: bool) -> None:
    tenancy.require_platform_admin(actor, "unbind storage from tenants")
    audit_tenant(binding.tenant)
    if not keep_images:
        images = _images_in(binding)
        if images:
            raise Conflict(
                f"{binding} still holds {images} image{'s' if images != 1 else ''} of tenant {binding.tenant.slug} "
                "(the trash included), so it stays bound. Delete them and purge the trash first, or unbind "
                "keeping the images: they stay in Ceph, no longer counted for the tenant.",
                code="binding_holds_images",
            )
    if binding_has_keys(binding):
        binding_keys_revoke(actor=actor, binding=binding)
    binding.delete()


def tenant_storage_left(tenant: Tenant) -> list[str]:
    """For deleting a tenant: its images in Ceph, with what to do about them."""
    if not tenant.storage_bindings.exists():
        return []
    images = tenant_storage_observe(tenant).usage.images
    if not images:
        return []
    return [
        f"{images} RBD image{'s' if images != 1 else ''} (the trash included): delete them and purge the trash, "
        "or unbind each of its places keeping the images"
    ]


def tenant_storage_release(actor: Actor, tenant: Tenant) -> None:
    """For deleting a tenant: revoke its bindings' Ceph keys (or refuse, while Ceph does not answer)."""
    for binding in tenant.storage_bindings.select_related("cluster", "tenant"):
        if binding_has_keys(binding):
            binding_keys_revoke(actor=actor, binding=binding)
