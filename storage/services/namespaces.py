"""RBD namespaces: tenants' separate image directories inside one pool."""

import errno

from dashboard.audit.services import audited_action
from dashboard.core.actors import Actor
from dashboard.core.errors import Conflict
from dashboard.tenancy import services as tenancy
from storage.models import CephCluster
from storage.services import tenancy as storage_tenancy
from storage.services.bindings import rbd
from storage.services.connection import NotFoundNamespace, open_ioctx
from storage.services.errors import translate_ceph_errors
from storage.validation import validate_object_name


def namespace_list(*, actor: Actor, cluster: CephCluster, pool: str) -> list[str]:
    visible = storage_tenancy.visible_namespaces(actor, cluster, pool)
    with open_ioctx(cluster, pool) as ioctx, translate_ceph_errors(cluster.name, f"listing namespaces of {pool}"):
        return sorted(name for name in rbd.RBD().namespace_list(ioctx) if visible is None or name in visible)


@audited_action("storage.namespace.create", target=("cluster", "pool", "name"))
def namespace_create(*, actor: Actor, cluster: CephCluster, pool: str, name: str) -> str:
    validate_object_name(name, field="name")
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=name, role=tenancy.ADMIN)
    with (
        open_ioctx(cluster, pool) as ioctx,
        translate_ceph_errors(
            cluster.name,
            f"creating namespace {pool}/{name}",
            overrides={
                errno.EEXIST: Conflict(
                    f"Namespace {pool}/{name} already exists.", code="namespace_exists", component="ceph"
                )
            },
        ),
    ):
        rbd.RBD().namespace_create(ioctx, name)
    return name


@audited_action("storage.namespace.delete", target=("cluster", "pool", "name"))
def namespace_delete(*, actor: Actor, cluster: CephCluster, pool: str, name: str) -> None:
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=name, role=tenancy.ADMIN)
    with (
        open_ioctx(cluster, pool) as ioctx,
        translate_ceph_errors(
            cluster.name,
            f"deleting namespace {pool}/{name}",
            overrides={
                errno.ENOENT: NotFoundNamespace(f"Pool {pool} has no RBD namespace {name}."),
                errno.EBUSY: Conflict(
                    f"Namespace {pool}/{name} still holds images (or trashed images). Delete or move them first.",
                    code="namespace_not_empty",
                    component="ceph",
                ),
            },
        ),
    ):
        rbd.RBD().namespace_remove(ioctx, name)
