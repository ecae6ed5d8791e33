"""Cluster-wide reads for the overview page and API."""

from dataclasses import dataclass, field

from dashboard.core.actors import Actor
from storage.models import CephCluster
from storage.services.bindings import rbd
from storage.services.connection import mon_command, open_ioctx
from storage.services.errors import translate_ceph_errors


@dataclass(frozen=True)
class HealthCheck:
    name: str
    severity: str
    message: str


@dataclass(frozen=True)
class ClusterOverview:
    cluster: str
    health_status: str
    health_text: str
    checks: list[HealthCheck] = field(default_factory=list)
    bytes_used: int = 0
    bytes_total: int = 0
    pool_count: int = 0
    image_count: int = 0
    osds_total: int = 0
    osds_up: int = 0
    osds_in: int = 0

    @property
    def percent_used(self) -> float:
        return 100.0 * self.bytes_used / self.bytes_total if self.bytes_total else 0.0


def cluster_overview(*, actor: Actor, cluster: CephCluster) -> ClusterOverview:
    """Everything the overview shows, read live from the cluster.

    `actor` is taken from the start so tenant scoping can narrow the counts without changing
    callers; the cluster-wide figures are shown to every signed-in user.
    """
    health_text = mon_command(cluster, "health", what="reading cluster health")
    health = mon_command(cluster, "health", format="json", what="reading cluster health")
    df = mon_command(cluster, "df", format="json", what="reading capacity")
    osd_stat = mon_command(cluster, "osd stat", format="json", what="reading OSD state")
    # Some releases nest the counters under "osdmap".
    osd_stat = osd_stat.get("osdmap", osd_stat)
    pools = mon_command(cluster, "osd pool ls", detail="detail", format="json", what="listing pools")
    rbd_pools = [p["pool_name"] for p in pools if "rbd" in (p.get("application_metadata") or {})]
    return ClusterOverview(
        cluster=cluster.name,
        health_status=health["status"],
        health_text=health_text,
        checks=[
            HealthCheck(name=name, severity=check["severity"], message=check["summary"]["message"])
            for name, check in sorted(health.get("checks", {}).items())
        ],
        bytes_used=df["stats"]["total_used_raw_bytes"],
        bytes_total=df["stats"]["total_bytes"],
        pool_count=len(pools),
        image_count=sum(_image_count(cluster, pool) for pool in rbd_pools),
        osds_total=osd_stat["num_osds"],
        osds_up=osd_stat["num_up_osds"],
        osds_in=osd_stat["num_in_osds"],
    )


def _image_count(cluster: CephCluster, pool: str) -> int:
    # Listing names is one omap read per namespace; nothing here opens an image.
    api = rbd.RBD()
    with open_ioctx(cluster, pool) as ioctx, translate_ceph_errors(cluster.name, f"listing images in {pool}"):
        count = len(api.list(ioctx))
        for namespace in api.namespace_list(ioctx):
            ioctx.set_namespace(namespace)
            count += len(api.list(ioctx))
    return count


def cluster_health_status(*, cluster: CephCluster) -> str:
    """HEALTH_OK, HEALTH_WARN or HEALTH_ERR as the monitors say: the cheapest question that shows
    Berth reaches the cluster with its credentials (the readiness probe and the metrics ask it)."""
    return str(mon_command(cluster, "health", format="json", what="reading cluster health")["status"])
