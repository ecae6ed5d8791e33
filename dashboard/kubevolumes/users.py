"""Which PersistentVolumes name which image: registered with the storage app's image-users hook
(storage/services/image_users.py) in KubeVolumesConfig.ready, so its services can refuse to trash, delete,
rename or shrink an image Kubernetes uses, without the storage app knowing Kubernetes."""

from registry.models import KubeCluster, RegistryQuota
from registry.services import csi as kube_csi
from storage.models import CephCluster, StorageBinding
from storage.services.csi import csi_cluster_id
from storage.services.image_users import ImageUser
from storage.services.tenancy import binding_for


def _kube_cluster(binding: StorageBinding | None) -> KubeCluster | None:
    """The tenant's Kubernetes cluster: the one Berth gives its volumes to. A place of no tenant's is not
    looked up (Berth writes no volumes for one)."""
    if binding is None:
        return None
    quota = RegistryQuota.objects.filter(tenant_id=binding.tenant_id).select_related("kube_cluster").first()
    return quota.kube_cluster if quota else None


def _cluster_ids(kube: KubeCluster, binding: StorageBinding, namespace: str) -> set[str]:
    """The clusterIDs that stand for the place: Berth's own, and any entry of `ceph-csi-config` written by hand
    for the same RADOS namespace."""
    by_hand = {cid for cid, rados in kube_csi.csi_rados_namespaces(cluster=kube).items() if rados == namespace}
    return {csi_cluster_id(binding)} | by_hand


def kube_image_users(cluster: CephCluster, pool: str, namespace: str) -> dict[str, list[ImageUser]]:
    binding = binding_for(cluster, pool, namespace)
    kube = _kube_cluster(binding)
    if kube is None or binding is None:
        return {}
    rook = kube_csi.rook_namespace_find(cluster=kube, pool=pool, rados_namespace=namespace)
    drivers = [rook.provisioner] if rook else []
    volumes = [volume for volume in kube_csi.csi_volumes_list(cluster=kube, drivers=drivers) if volume.pool == pool]
    if not volumes:
        return {}
    cluster_ids = _cluster_ids(kube, binding, namespace) | ({rook.cluster_id} if rook else set())
    pods: dict[str, dict[str, list[str]]] = {}
    found: dict[str, list[ImageUser]] = {}
    for volume in volumes:
        here = volume.rados_namespace == namespace if volume.rados_namespace is not None else None
        if not (here or (here is None and volume.cluster_id in cluster_ids)):
            continue
        claim_pods: list[str] = []
        if volume.claim_namespace and volume.claim:
            if volume.claim_namespace not in pods:
                pods[volume.claim_namespace] = kube_csi.claim_pods(cluster=kube, namespace=volume.claim_namespace)
            claim_pods = pods[volume.claim_namespace].get(volume.claim, [])
        found.setdefault(volume.image, []).append(
            ImageUser(
                kube_cluster=kube.name,
                volume=volume.name,
                claim=f"{volume.claim_namespace}/{volume.claim}" if volume.claim else "",
                pods=tuple(f"{volume.claim_namespace}/{pod}" for pod in claim_pods),
                static=volume.static,
            )
        )
    return found
