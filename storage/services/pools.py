"""Pools: listed from the monitors' view, changed only through `mon_command`.

Berth's restricted cephx client may run exactly the pool commands its caps name, and only via
mon_command (`Rados.create_pool()` is refused for it), so every change here is a monitor command.
"""

from typing import Any

from dashboard.audit.services import audited_action
from dashboard.core.actors import Actor
from dashboard.core.errors import BerthError, Conflict
from dashboard.tenancy import services as tenancy
from storage.models import CephCluster
from storage.services import tenancy as storage_tenancy
from storage.services.connection import NotFoundPool, mon_command
from storage.services.types import PoolInfo
from storage.validation import (
    COMPRESSION_MODES,
    DEFAULT_PG_NUM,
    PG_AUTOSCALE_MODES,
    validate_choice,
    validate_confirmation,
    validate_object_name,
    validate_pg_num,
    validate_quota_bytes,
    validate_quota_objects,
)


def pool_list(*, actor: Actor, cluster: CephCluster) -> list[PoolInfo]:
    details = mon_command(cluster, "osd pool ls", detail="detail", format="json", what="listing pools")
    usage = mon_command(cluster, "df", detail="detail", format="json", what="reading pool usage")
    stats_by_id = {pool["id"]: pool["stats"] for pool in usage.get("pools", [])}
    visible = storage_tenancy.visible_pools(actor, cluster)
    return sorted(
        (
            _pool_info(detail, stats_by_id.get(detail["pool_id"], {}))
            for detail in details
            if visible is None or detail["pool_name"] in visible
        ),
        key=lambda pool: pool.name,
    )


def pool_get(*, actor: Actor, cluster: CephCluster, name: str) -> PoolInfo:
    storage_tenancy.visible_namespaces(actor, cluster, name)
    for pool in pool_list(actor=actor, cluster=cluster):
        if pool.name == name:
            return pool
    raise NotFoundPool(f"Pool {name} does not exist on Ceph cluster {cluster.name}.")


def _pool_info(detail: dict[str, Any], stats: dict[str, Any]) -> PoolInfo:
    return PoolInfo(
        name=detail["pool_name"],
        id=detail["pool_id"],
        applications=sorted(detail.get("application_metadata") or {}),
        size=detail.get("size", 0),
        pg_num=detail.get("pg_num", 0),
        stored_bytes=stats.get("stored", 0),
        objects=stats.get("objects", 0),
        quota_max_bytes=detail.get("quota_max_bytes") or None,
        quota_max_objects=detail.get("quota_max_objects") or None,
        # `ceph df` reports a ratio (0..1) under this name.
        percent_used=round(100.0 * float(stats.get("percent_used", 0.0)), 4),
        compression_mode=(detail.get("options") or {}).get("compression_mode", "none"),
        pg_autoscale_mode=detail.get("pg_autoscale_mode", ""),
    )


def _pool_exists(cluster: CephCluster, name: str) -> bool:
    names = mon_command(cluster, "osd pool ls", format="json", what="listing pools")
    return name in names


@audited_action(
    "storage.pool.create",
    target=("cluster", "name"),
    params=("pg_num", "max_bytes", "max_objects", "compression_mode", "pg_autoscale_mode"),
)
def pool_create(
    *,
    actor: Actor,
    cluster: CephCluster,
    name: str,
    pg_num: int = DEFAULT_PG_NUM,
    max_bytes: int | None = None,
    max_objects: int | None = None,
    compression_mode: str | None = None,
    pg_autoscale_mode: str | None = None,
) -> PoolInfo:
    tenancy.require_platform_admin(actor, "create pools")
    validate_object_name(name, field="name")
    _validate_options(compression_mode, pg_autoscale_mode)
    pg_num = validate_pg_num(pg_num)
    max_bytes = validate_quota_bytes(max_bytes)
    max_objects = validate_quota_objects(max_objects)
    # `osd pool create` answers success for an existing pool, so the conflict is checked first.
    if _pool_exists(cluster, name):
        raise Conflict(
            f"Pool {name} already exists on Ceph cluster {cluster.name}.", code="pool_exists", component="ceph"
        )
    mon_command(
        cluster, "osd pool create", pool=name, pg_num=pg_num, pool_type="replicated", what=f"creating pool {name}"
    )
    try:
        mon_command(
            cluster,
            "osd pool application enable",
            pool=name,
            app="rbd",
            what=f"enabling the rbd application on pool {name}",
        )
        _set_quota(cluster, name, max_bytes, max_objects)
        _set_options(cluster, name, compression_mode, pg_autoscale_mode)
    except BerthError:
        # A pool without its application or quota is not what was asked for: take it back.
        _delete(cluster, name)
        raise
    return pool_get(actor=actor, cluster=cluster, name=name)


def _set_quota(cluster: CephCluster, name: str, max_bytes: int | None, max_objects: int | None) -> None:
    for field, value in (("max_bytes", max_bytes), ("max_objects", max_objects)):
        mon_command(
            cluster,
            "osd pool set-quota",
            pool=name,
            field=field,
            val=str(value or 0),
            what=f"setting the {field} quota of pool {name}",
        )


def _validate_options(compression_mode: str | None, pg_autoscale_mode: str | None) -> None:
    if compression_mode is not None:
        validate_choice(compression_mode, field="compression_mode", choices=COMPRESSION_MODES)
    if pg_autoscale_mode is not None:
        validate_choice(pg_autoscale_mode, field="pg_autoscale_mode", choices=PG_AUTOSCALE_MODES)


def _set_options(cluster: CephCluster, name: str, compression_mode: str | None, pg_autoscale_mode: str | None) -> None:
    for var, value in (("compression_mode", compression_mode), ("pg_autoscale_mode", pg_autoscale_mode)):
        if value is not None:
            mon_command(
                cluster, "osd pool set", pool=name, var=var, val=value, what=f"setting {var} of pool {name} to {value}"
            )


@audited_action(
    "storage.pool.set_options", target=("cluster", "name"), params=("compression_mode", "pg_autoscale_mode")
)
def pool_set_options(
    *,
    actor: Actor,
    cluster: CephCluster,
    name: str,
    compression_mode: str | None = None,
    pg_autoscale_mode: str | None = None,
) -> PoolInfo:
    """Compression (BlueStore compresses only what is written afterwards) and the PG autoscaler's mode;
    None leaves an option as it is."""
    storage_tenancy.visible_namespaces(actor, cluster, name)
    tenancy.require_platform_admin(actor, "change pool options")
    _validate_options(compression_mode, pg_autoscale_mode)
    pool_get(actor=actor, cluster=cluster, name=name)
    _set_options(cluster, name, compression_mode, pg_autoscale_mode)
    return pool_get(actor=actor, cluster=cluster, name=name)


@audited_action("storage.pool.set_quota", target=("cluster", "name"), params=("max_bytes", "max_objects"))
def pool_set_quota(
    *,
    actor: Actor,
    cluster: CephCluster,
    name: str,
    max_bytes: int | None = None,
    max_objects: int | None = None,
) -> PoolInfo:
    storage_tenancy.visible_namespaces(actor, cluster, name)
    tenancy.require_platform_admin(actor, "change pool quotas")
    max_bytes = validate_quota_bytes(max_bytes)
    max_objects = validate_quota_objects(max_objects)
    pool_get(actor=actor, cluster=cluster, name=name)
    _set_quota(cluster, name, max_bytes, max_objects)
    return pool_get(actor=actor, cluster=cluster, name=name)


@audited_action("storage.pool.delete", target=("cluster", "name"))
def pool_delete(*, actor: Actor, cluster: CephCluster, name: str, confirm_name: str | None) -> None:
    storage_tenancy.visible_namespaces(actor, cluster, name)
    tenancy.require_platform_admin(actor, "delete pools")
    validate_confirmation(confirm_name, expected=name)
    pool_get(actor=actor, cluster=cluster, name=name)
    _delete(cluster, name)


def _delete(cluster: CephCluster, name: str) -> None:
    try:
        mon_command(
            cluster,
            "osd pool delete",
            pool=name,
            pool2=name,
            yes_i_really_really_mean_it=True,
            what=f"deleting pool {name}",
        )
    except BerthError as error:
        # The monitors answer EPERM both for missing caps and for the cluster-wide safety switch;
        # only the latter mentions the option, and it needs a different fix.
        if "mon_allow_pool_delete" in error.message:
            raise Conflict(
                f"Ceph cluster {cluster.name} forbids deleting pools (mon_allow_pool_delete is false). "
                "A cluster administrator can allow it with `ceph config set mon mon_allow_pool_delete true`, "
                "then turn it off again after the deletion.",
                code="pool_delete_disabled",
                component="ceph",
            ) from error
        raise
