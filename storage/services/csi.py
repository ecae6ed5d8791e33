"""What ceph-csi has to know from Ceph to use a tenant's RBD namespace: the monitors, a stable
clusterID for the namespace, and, per image, its size, its features and whether a client has it open.

The Kubernetes half (the Secret, the `ceph-csi-config` entry, the StorageClass, static volumes) is
written by registry/services/csi.py; dashboard/kubevolumes joins the two.
"""

from dataclasses import dataclass

from dashboard.audit.services import audit_tenant
from dashboard.core.actors import Actor
from dashboard.core.errors import InvalidInput, NotFound
from dashboard.tenancy import services as tenancy
from storage.models import CephCluster, StorageBinding, StorageQuota
from storage.services import tenancy as storage_tenancy
from storage.services.bindings import rbd
from storage.services.connection import image_spec, mon_command, open_image, open_ioctx
from storage.services.errors import translate_ceph_errors
from storage.services.headers import feature_names
from storage.services.tenancy import gib_to_bytes
from storage.services.tenant_keys import tenant_key_entity

# The features the kernel RBD client (krbd, which ceph-csi's node plugin uses unless told to use rbd-nbd)
# maps, on Linux 5.3 or later: exclusive-lock came with 4.9, deep-flatten with 5.1, object-map and
# fast-diff with 5.3. The kernel never maps `journaling`, nor `striping` or `data-pool` as ceph-csi
# passes them, and `operations`, `migrating` and `non-primary` mark images in the middle of a change.
KERNEL_FEATURES = ("layering", "exclusive-lock", "object-map", "fast-diff", "deep-flatten")
KERNEL_RULE = (
    "The kernel RBD client that ceph-csi uses maps images whose features are among "
    f"{', '.join(KERNEL_FEATURES)} (Linux 5.3 or later)."
)
# ceph-csi keeps clusterIDs in a field of at most 36 bytes (the length of a UUID).
CLUSTER_ID_PREFIX = "berth-"
MAX_CLUSTER_ID = 36


def kernel_unmappable(features: list[str]) -> list[str]:
    return [feature for feature in features if feature not in KERNEL_FEATURES]


def csi_cluster_id(binding: StorageBinding) -> str:
    """The binding's clusterID in `ceph-csi-config`: from its key id, which never changes, so a renamed
    tenant keeps its volumes, and a place bound anew gets a new one."""
    return (CLUSTER_ID_PREFIX + binding.key_id.hex)[:MAX_CLUSTER_ID]


@dataclass(frozen=True)
class CsiPlace:
    cluster_id: str
    monitors: list[str]
    pool: str
    namespace: str
    # The cephx entity without `client.`, as ceph-csi's Secret names it.
    user_id: str
    # The tenant's storage quota (provisioned bytes), None: unlimited.
    provisioned_limit: int | None


@dataclass(frozen=True)
class CsiImage:
    pool: str
    namespace: str
    name: str
    size: int
    features: list[str]
    watchers: list[str]


def ceph_monitors(cluster: CephCluster) -> list[str]:
    """The monitors' addresses as `host:port`, the msgr1 (v1) address where a monitor has one: the
    kernel client speaks v1 unless mounted with ms_mode."""
    answer = mon_command(cluster, "mon dump", format="json", what="listing the monitors")
    addresses = []
    for monitor in answer.get("mons", []):
        vector = (monitor.get("public_addrs") or {}).get("addrvec") or []
        chosen = next((a for a in vector if a.get("type") == "v1"), vector[0] if vector else None)
        address = chosen["addr"] if chosen else monitor.get("addr", "").split("/")[0]
        if address:
            addresses.append(address)
    return addresses


def _namespace_binding(actor: Actor, binding: StorageBinding) -> StorageBinding:
    tenancy.require_role(actor, binding.tenant, tenancy.ADMIN)
    audit_tenant(binding.tenant)
    if binding.is_whole_pool:
        raise InvalidInput(
            f"{binding} is a whole pool; Kubernetes gets a tenant's RBD namespace, reached with a key confined "
            "to it. Bind a namespace of the pool to the tenant and use that.",
            code="csi_needs_namespace",
            extra={"field": "binding"},
        )
    return binding


def csi_place_get(*, actor: Actor, binding: StorageBinding) -> CsiPlace:
    """ceph-csi's view of a binding, for its tenant's admins."""
    binding = _namespace_binding(actor, binding)
    quota = StorageQuota.objects.filter(tenant_id=binding.tenant_id).first()
    return CsiPlace(
        cluster_id=csi_cluster_id(binding),
        monitors=ceph_monitors(binding.cluster),
        pool=binding.pool,
        namespace=binding.namespace,
        user_id=tenant_key_entity(binding).removeprefix("client."),
        provisioned_limit=gib_to_bytes(quota.max_provisioned_gib) if quota else None,
    )


def csi_image_get(*, actor: Actor, cluster: CephCluster, pool: str, namespace: str, name: str) -> CsiImage:
    tenant = storage_tenancy.storage_scope(
        actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.ADMIN
    )
    if tenant is None:
        raise NotFound(
            f"{image_spec(pool, namespace, name)} is in no tenant's place; Kubernetes volumes are made from a "
            "tenant's images.",
            code="csi_no_tenant",
        )
    spec = image_spec(pool, namespace, name)
    with open_image(cluster, pool, namespace, name, read_only=True) as image:
        with translate_ceph_errors(cluster.name, f"reading image {spec}"):
            return CsiImage(
                pool=pool,
                namespace=namespace,
                name=name,
                size=image.size(),
                features=feature_names(image.features()),
                watchers=[str(watcher.get("addr", "")) for watcher in image.watchers_list()],
            )


def csi_image_names(*, actor: Actor, cluster: CephCluster, pool: str, namespace: str) -> set[str]:
    """The names of the images in a place (no header read): to tell which volumes point at nothing."""
    storage_tenancy.storage_scope(actor=actor, cluster=cluster, pool=pool, namespace=namespace, role=tenancy.VIEWER)
    with open_ioctx(cluster, pool, namespace) as ioctx:
        with translate_ceph_errors(cluster.name, f"listing images in {image_spec(pool, namespace, '')}"):
            return {entry["name"] for entry in rbd.RBD().list2(ioctx)}
