"""The dev cluster does what Berth's tests rely on, and client.berth's caps are as narrow as
scripts/ceph-dev-cluster says: enough for pools, images and tenant keys, nothing beyond."""

from __future__ import annotations

import errno
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import rados
import rbd

from storage.services.tenant_keys import TENANT_MON_CAP
from tests.services.ceph import CephDevCluster, CephEndpoints

pytestmark = pytest.mark.integration

TIMEOUTS = {"rados_mon_op_timeout": "10", "rados_osd_op_timeout": "10", "client_mount_timeout": "10"}


def mon(handle: rados.Rados, prefix: str, **arguments: Any) -> tuple[int, bytes, str]:
    return handle.mon_command(json.dumps({"prefix": prefix, "format": "json", **arguments}), b"")


def ok(handle: rados.Rados, prefix: str, **arguments: Any) -> Any:
    code, output, status = mon(handle, prefix, **arguments)
    assert code == 0, f"{prefix} {arguments}: {status} ({code})"
    return json.loads(output) if output else None


def connected(handle: rados.Rados) -> rados.Rados:
    handle.connect()
    return handle


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def berth(ceph_dev_cluster: CephEndpoints) -> Iterator[rados.Rados]:
    handle = connected(
        rados.Rados(
            conffile=str(ceph_dev_cluster.conf),
            name=ceph_dev_cluster.client_name,
            conf={**TIMEOUTS, "keyring": str(ceph_dev_cluster.client_keyring)},
        )
    )
    yield handle
    handle.shutdown()


@pytest.fixture
def admin(ceph_dev_cluster: CephEndpoints) -> Iterator[rados.Rados]:
    handle = connected(
        rados.Rados(
            conffile=str(ceph_dev_cluster.conf),
            name="client.admin",
            conf={**TIMEOUTS, "keyring": str(ceph_dev_cluster.admin_keyring)},
        )
    )
    yield handle
    handle.shutdown()


@pytest.fixture
def rbd_pool(berth: rados.Rados) -> Iterator[str]:
    pool = unique("devcluster")
    ok(berth, "osd pool create", pool=pool)
    # `rbd pool init`: tenants confined to a namespace cannot write the pool's rbd_info
    # themselves, which librbd does on the first image creation of an uninitialised pool.
    with berth.open_ioctx(pool) as ioctx:
        rbd.RBD().pool_init(ioctx, False)
    yield pool
    ok(berth, "osd pool delete", pool=pool, pool2=pool, yes_i_really_really_mean_it=True)


def test_cluster_is_healthy_with_one_osd_and_an_active_mgr(
    ceph_dev_cluster_service: CephDevCluster, admin: rados.Rados
) -> None:
    status = ceph_dev_cluster_service.status()
    assert status.healthy, status.report
    summary = ok(admin, "status")
    assert summary["health"]["status"] == "HEALTH_OK"
    assert summary["osdmap"]["num_up_osds"] == summary["osdmap"]["num_in_osds"] == 1
    assert summary["mgrmap"]["available"]
    assert ceph_dev_cluster_service.endpoints.mon_host.startswith("v2:127.0.0.1:")


def test_berth_connects_with_conf_and_keyring(berth: rados.Rados, ceph_dev_cluster: CephEndpoints) -> None:
    assert ok(berth, "health")["status"] == "HEALTH_OK"
    assert ceph_dev_cluster.client_name == "client.berth"


def test_berth_connects_with_mon_host_and_key(ceph_dev_cluster: CephEndpoints) -> None:
    handle = connected(
        rados.Rados(
            conffile=None,
            name=ceph_dev_cluster.client_name,
            conf={**TIMEOUTS, "mon_host": ceph_dev_cluster.mon_host, "key": ceph_dev_cluster.client_key},
        )
    )
    try:
        assert ok(handle, "health")["status"] == "HEALTH_OK"
    finally:
        handle.shutdown()


def test_berth_manages_a_pool_and_its_images(berth: rados.Rados) -> None:
    pool = unique("devcluster")
    ok(berth, "osd pool create", pool=pool)
    try:
        ok(berth, "osd pool application enable", pool=pool, app="rbd")
        ok(berth, "osd pool set-quota", pool=pool, field="max_bytes", val=str(1 << 30))
        detail = {p["pool_name"]: p for p in ok(berth, "osd pool ls", detail="detail")}[pool]
        assert "rbd" in detail["application_metadata"]
        assert detail["quota_max_bytes"] == 1 << 30
        assert detail["size"] == 1
        with berth.open_ioctx(pool) as ioctx:
            rbd.RBD().create(ioctx, "disk", 64 << 20)
            with rbd.Image(ioctx, "disk") as image:
                image.write(b"berth", 0)
                image.create_snap("before")
            assert rbd.RBD().list(ioctx) == ["disk"]
    finally:
        ok(berth, "osd pool delete", pool=pool, pool2=pool, yes_i_really_really_mean_it=True)
    assert pool not in ok(berth, "osd pool ls")


@pytest.mark.parametrize(
    ("prefix", "arguments"),
    [
        ("auth get", {"entity": "client.admin"}),
        ("auth get", {"entity": "client.berth"}),
        ("auth ls", {}),
        ("auth caps", {"entity": "client.berth", "caps": ["mon", "allow *"]}),
        ("config set", {"who": "global", "name": "mon_allow_pool_delete", "value": "false"}),
        ("config-key get", {"key": "mgr/telemetry/salt"}),
        ("osd out", {"ids": ["0"]}),
    ],
    ids=["auth-get-admin", "auth-get-self", "auth-ls", "auth-caps-self", "config-set", "config-key-get", "osd-out"],
)
def test_berth_is_refused_admin_commands(berth: rados.Rados, prefix: str, arguments: dict) -> None:
    code, _, _ = mon(berth, prefix, **arguments)
    assert code == -errno.EACCES


def tenant_caps(pool: str, namespace: str) -> list[str]:
    rbd_cap = f"profile rbd pool={pool} namespace={namespace}"
    return ["mon", TENANT_MON_CAP, "osd", rbd_cap, "mgr", rbd_cap]


def test_berth_mints_and_revokes_tenant_keys_confined_to_a_namespace(
    berth: rados.Rados, rbd_pool: str, ceph_dev_cluster: CephEndpoints
) -> None:
    namespace = unique("tenant")
    entity = f"client.berth-tenant-{namespace}"
    with berth.open_ioctx(rbd_pool) as ioctx:
        rbd.RBD().namespace_create(ioctx, namespace)
    [created] = ok(berth, "auth get-or-create", entity=entity, caps=tenant_caps(rbd_pool, namespace))
    try:
        assert ok(berth, "auth get", entity=entity)[0]["key"] == created["key"]
        tenant = connected(
            rados.Rados(
                conffile=None,
                name=entity,
                conf={**TIMEOUTS, "mon_host": ceph_dev_cluster.mon_host, "key": created["key"]},
            )
        )
        try:
            with tenant.open_ioctx(rbd_pool) as ioctx:
                ioctx.set_namespace(namespace)
                rbd.RBD().create(ioctx, "volume", 64 << 20)
                ioctx.set_namespace("")
                with pytest.raises(rbd.PermissionError):
                    rbd.RBD().create(ioctx, "outside", 64 << 20)
        finally:
            tenant.shutdown()
    finally:
        ok(berth, "auth rm", entity=entity)
    assert mon(berth, "auth get", entity=entity)[0] == -errno.ENOENT


@pytest.mark.parametrize(
    ("entity", "caps"),
    [
        (
            "client.berth-tenant-x",
            ["mon", "allow *", "osd", "profile rbd pool=p namespace=n", "mgr", "profile rbd pool=p namespace=n"],
        ),
        (
            "client.berth-tenant-x",
            ["mon", "profile rbd", "osd", "profile rbd pool=p", "mgr", "profile rbd pool=p namespace=n"],
        ),
        (
            "client.berth-tenant-x",
            [
                "mon",
                "profile rbd",
                "osd",
                "profile rbd pool=p namespace=n, allow *",
                "mgr",
                "profile rbd pool=p namespace=n",
            ],
        ),
        ("client.berth-tenant-x", ["mon", "profile rbd", "osd", "allow *"]),
        (
            "client.berth-tenant-x",
            ["mon", "profile rbd", "osd", "profile rbd pool=p namespace=n", "mgr", "profile rbd pool=p namespace=n"],
        ),
        ("client.berth-tenant-x", []),
        ("client.other", tenant_caps("p", "n")),
        ("client.admin", tenant_caps("p", "n")),
    ],
    ids=[
        "mon-allow-all",
        "whole-pool",
        "appended-grant",
        "osd-allow-all",
        "mon-profile-rbd-blocklists-hosts",
        "no-caps",
        "other-prefix",
        "admin",
    ],
)
def test_berth_cannot_mint_wider_keys(berth: rados.Rados, entity: str, caps: list[str]) -> None:
    code, _, _ = mon(berth, "auth get-or-create", entity=entity, caps=caps)
    assert code == -errno.EACCES


def test_berth_cannot_remove_keys_outside_the_tenant_prefix(berth: rados.Rados, admin: rados.Rados) -> None:
    assert mon(berth, "auth rm", entity="client.admin")[0] == -errno.EACCES
    assert ok(admin, "auth get", entity="client.admin")


def test_clients_recover_when_the_monitor_returns(
    ceph_dev_cluster_service: CephDevCluster, ceph_dev_cluster: CephEndpoints
) -> None:
    with ceph_dev_cluster_service.mon_stopped():
        assert ceph_dev_cluster_service.status().exit_code == 1
        handle = rados.Rados(
            conffile=str(ceph_dev_cluster.conf),
            name=ceph_dev_cluster.client_name,
            conf={"keyring": str(ceph_dev_cluster.client_keyring), "client_mount_timeout": "2"},
        )
        with pytest.raises(rados.Error):
            handle.connect()
        handle.shutdown()
    assert ceph_dev_cluster_service.status().healthy
    handle = connected(
        rados.Rados(
            conffile=str(ceph_dev_cluster.conf),
            name=ceph_dev_cluster.client_name,
            conf={**TIMEOUTS, "keyring": str(ceph_dev_cluster.client_keyring)},
        )
    )
    try:
        assert ok(handle, "health")["status"] == "HEALTH_OK"
    finally:
        handle.shutdown()
