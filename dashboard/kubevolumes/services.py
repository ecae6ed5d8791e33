"""Services joining a tenant's Ceph place and its Kubernetes cluster for ceph-csi.

A binding's objects (Secret, `ceph-csi-config` entry, StorageClass) and an image's static volume are
built from what storage/services/csi.py reads from Ceph and written by registry/services/csi.py. The
Secret is written only in the request that mints the tenant key, so Berth still never stores the key;
where Berth's Kubernetes credentials may not write an object, it comes back as YAML to apply.
"""

import re
from dataclasses import dataclass
from typing import Any

from dashboard.audit.services import audited_action
from dashboard.core.actors import Actor
from dashboard.core.errors import BerthError, Conflict, InvalidInput, NotConfigured, NotFound
from dashboard.tenancy import services as tenancy
from registry.models import KubeCluster, RegistryQuota
from registry.services import csi as kube_csi
from registry.services.csi import TO_APPLY, KubeObject
from registry.services.tenancy import registry_namespace_owners
from storage.models import CephCluster, StorageBinding
from storage.services import csi as ceph_csi
from storage.services import tenant_keys
from storage.services.connection import image_spec
from storage.services.tenancy import binding_for

NOT_WRITTEN = "not written"
LEFT_TO_ROOK = "left to Rook"
# A Kubernetes object name (DNS-1123 subdomain), for the claim a tenant names.
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")


@dataclass(frozen=True)
class KubeUse:
    binding: StorageBinding
    kube_cluster: KubeCluster
    objects: list[KubeObject]
    # A key was minted by this request: the Secret in `objects` holds it, shown this once.
    key_minted: bool

    @property
    def to_apply(self) -> list[KubeObject]:
        return [item for item in self.objects if item.outcome in (TO_APPLY, NOT_WRITTEN)]

    @property
    def yaml(self) -> str:
        return kube_csi.manifests_yaml(item.shown for item in self.to_apply)


def kube_cluster_of(binding: StorageBinding) -> KubeCluster:
    quota = RegistryQuota.objects.filter(tenant=binding.tenant).select_related("kube_cluster").first()
    if quota is None:
        raise NotConfigured(
            f"Tenant {binding.tenant} has no Kubernetes cluster: a platform admin gives it one with its registry "
            "quota (Django admin, Registry quotas), which also names its Kubernetes namespaces.",
            code="tenant_without_kube_cluster",
        )
    return quota.kube_cluster


def _choice(value: str, choices: tuple[str, ...], field: str) -> str:
    if value not in choices:
        raise InvalidInput(
            f"{field}: must be one of {', '.join(choices)} (got {value!r}).",
            code="invalid_choice",
            extra={"field": field},
        )
    return value


@dataclass(frozen=True)
class _BindingObjects:
    secret: dict[str, Any]
    entry: dict[str, Any]
    config_map: dict[str, Any]
    storage_class: dict[str, Any]


@dataclass(frozen=True)
class _Target:
    """Which clusterID and driver the objects name: Berth's own, or Rook's when Rook manages the namespace."""

    cluster_id: str
    provisioner: str
    rook: kube_csi.RookNamespace | None


def _target(kube: KubeCluster, place: ceph_csi.CsiPlace) -> _Target:
    rook = kube_csi.rook_namespace_find(cluster=kube, pool=place.pool, rados_namespace=place.namespace)
    if rook is not None:
        return _Target(rook.cluster_id, rook.provisioner, rook)
    return _Target(place.cluster_id, kube_csi.CsiSettings.current().provisioner, None)


def _left_to_rook(manifest: dict[str, Any], rook: kube_csi.RookNamespace) -> KubeObject:
    reason = (
        f"Rook manages ceph-csi's cluster list: CephBlockPoolRadosNamespace {rook.namespace}/{rook.name} names "
        f"clusterID {rook.cluster_id}, which the StorageClass and volumes use."
    )
    return KubeObject("ConfigMap", manifest["metadata"]["name"], manifest["metadata"]["namespace"], LEFT_TO_ROOK,
                      manifest, reason)  # fmt: skip


def _binding_objects(
    binding: StorageBinding,
    place: ceph_csi.CsiPlace,
    target: _Target,
    *,
    key: str | None,
    fs_type: str,
    reclaim_policy: str,
) -> _BindingObjects:
    csi = kube_csi.CsiSettings.current()
    name = kube_csi.csi_object_name(binding.tenant.slug, binding.namespace)
    entry = kube_csi.csi_config_entry(
        cluster_id=place.cluster_id, monitors=place.monitors, rados_namespace=place.namespace
    )
    return _BindingObjects(
        secret=kube_csi.csi_secret_manifest(
            name=name, namespace=csi.namespace, tenant=binding.tenant.slug, user_id=place.user_id, user_key=key
        ),
        entry=entry,
        config_map=kube_csi.csi_config_map_manifest(
            name=csi.config_map, namespace=csi.namespace, config=kube_csi.csi_config_merged(None, entry, where="")
        ),
        storage_class=kube_csi.storage_class_manifest(
            name=name,
            tenant=binding.tenant.slug,
            provisioner=target.provisioner,
            cluster_id=target.cluster_id,
            pool=place.pool,
            image_features=list(ceph_csi.KERNEL_FEATURES),
            secret=name,
            secret_namespace=csi.namespace,
            fs_type=_choice(fs_type, kube_csi.FS_TYPES, "fs_type"),
            reclaim_policy=_choice(reclaim_policy, kube_csi.RECLAIM_POLICIES, "reclaim_policy"),
        ),
    )


def _unwritten(manifest: dict[str, Any], reason: str) -> KubeObject:
    metadata = manifest["metadata"]
    return KubeObject(manifest["kind"], metadata["name"], metadata.get("namespace", ""), NOT_WRITTEN, manifest, reason)


def binding_kube_preview(
    *, actor: Actor, binding: StorageBinding, fs_type: str = "ext4", reclaim_policy: str = "Delete"
) -> KubeUse:
    """The binding's objects as they would be written, nothing written (the key redacted). For its
    tenant's admins: the page before "Write to Kubernetes"."""
    place = ceph_csi.csi_place_get(actor=actor, binding=binding)
    kube = kube_cluster_of(binding)
    target = _target(kube, place)
    built = _binding_objects(binding, place, target, key=None, fs_type=fs_type, reclaim_policy=reclaim_policy)
    reason = "Not written yet."
    config = _left_to_rook(built.config_map, target.rook) if target.rook else _unwritten(built.config_map, reason)
    objects = [_unwritten(built.secret, reason), config, _unwritten(built.storage_class, reason)]
    return KubeUse(binding, kube, objects, key_minted=False)


_SECRET_NEEDS_KEY = (
    "Berth writes ceph-csi's Secret only in the request that mints the tenant's key, which it does not keep: "
    "mint a new key (this revokes the old one) to write it."
)


@audited_action(
    "kubernetes.binding.setup",
    target=("binding",),
    params=("mint_key", "fs_type", "reclaim_policy", "resource_quotas"),
)
def binding_kube_setup(
    *,
    actor: Actor,
    binding: StorageBinding,
    mint_key: bool = False,
    fs_type: str = "ext4",
    reclaim_policy: str = "Delete",
    resource_quotas: bool = False,
) -> KubeUse:
    """Write the binding's `ceph-csi-config` entry and StorageClass to the tenant's Kubernetes cluster and,
    with `mint_key`, mint a new tenant key (revoking an existing one) and write ceph-csi's Secret with it.

    The Kubernetes objects that need no key go first: a cluster that is unreachable or lacks ceph-csi's
    namespace fails the request before a key is minted. Once minted, the key reaches the caller whatever
    happens to the Secret's write: as the written Secret, or inside the YAML to apply."""
    place = ceph_csi.csi_place_get(actor=actor, binding=binding)
    kube = kube_cluster_of(binding)
    target = _target(kube, place)
    built = _binding_objects(binding, place, target, key=None, fs_type=fs_type, reclaim_policy=reclaim_policy)
    if target.rook is not None:
        config = _left_to_rook(built.config_map, target.rook)
    else:
        config = kube_csi.csi_config_apply(cluster=kube, entry=built.entry)
    storage_class = kube_csi.storage_class_apply(cluster=kube, manifest=built.storage_class)
    quotas = []
    if resource_quotas:
        owners = registry_namespace_owners(kube_cluster=kube)
        quotas = kube_csi.resource_quotas_apply(
            cluster=kube,
            storage_class=storage_class.name,
            tenant=binding.tenant.slug,
            limit=place.provisioned_limit,
            tenant_namespaces=[ns for ns, owner in owners.items() if owner.pk == binding.tenant_id],
        )
    if not mint_key:
        objects = [_unwritten(built.secret, _SECRET_NEEDS_KEY), config, storage_class, *quotas]
        return KubeUse(binding, kube, objects, False)
    if tenant_keys.tenant_key_exists(actor=actor, binding=binding):
        tenant_keys.tenant_key_revoke(actor=actor, binding=binding)
    _entity, key = tenant_keys.tenant_key_create(actor=actor, binding=binding)
    secret = _binding_objects(binding, place, target, key=key, fs_type=fs_type, reclaim_policy=reclaim_policy).secret
    try:
        written = kube_csi.csi_secret_apply(cluster=kube, manifest=secret)
    except BerthError as error:
        written = KubeObject("Secret", secret["metadata"]["name"], secret["metadata"]["namespace"], TO_APPLY, secret,
                             error.message)  # fmt: skip
    return KubeUse(binding, kube, [written, config, storage_class, *quotas], key_minted=True)


# --- one image as a static volume ----------------------------------------------------------------


@dataclass(frozen=True)
class ImageVolume:
    image: ceph_csi.CsiImage
    kube_cluster: KubeCluster
    kube_namespace: str
    claim: str
    objects: list[KubeObject]

    @property
    def to_apply(self) -> list[KubeObject]:
        return [item for item in self.objects if item.outcome == TO_APPLY]

    @property
    def yaml(self) -> str:
        return kube_csi.manifests_yaml(item.shown for item in self.to_apply)


@dataclass(frozen=True)
class ImageVolumeOptions:
    """What the per-image form offers, and what would stop a volume (empty: nothing)."""

    image: ceph_csi.CsiImage
    kube_cluster: KubeCluster
    kube_namespaces: list[str]
    problems: list[str]


def _problems(image: ceph_csi.CsiImage) -> list[str]:
    spec = image_spec(image.pool, image.namespace, image.name)
    problems = []
    if image.watchers:
        problems.append(
            f"Image {spec} is open by {len(image.watchers)} client(s) ({', '.join(image.watchers)}). A volume for "
            "Kubernetes must not be in use elsewhere: ceph-csi would map it a second time. Stop that client "
            "(`rbd unmap`, or the pod using it) first."
        )
    if unmappable := ceph_csi.kernel_unmappable(image.features):
        problems.append(
            f"Image {spec} has features the kernel client cannot map: {', '.join(unmappable)}. "
            f"{ceph_csi.KERNEL_RULE} Disable them on the image's page first."
        )
    return problems


def image_kube_volume_options(
    *, actor: Actor, cluster: CephCluster, pool: str, namespace: str, name: str
) -> ImageVolumeOptions:
    image = ceph_csi.csi_image_get(actor=actor, cluster=cluster, pool=pool, namespace=namespace, name=name)
    binding = binding_for(cluster, pool, namespace)
    assert binding is not None  # csi_image_get refuses an image in no tenant's place
    ceph_csi.csi_place_get(actor=actor, binding=binding)
    kube = kube_cluster_of(binding)
    owned = sorted(
        ns for ns, owner in registry_namespace_owners(kube_cluster=kube).items() if owner.pk == binding.tenant_id
    )
    return ImageVolumeOptions(image, kube, owned, _problems(image))


def _claim_name(claim: str) -> str:
    if not _DNS_SUBDOMAIN.fullmatch(claim or ""):
        raise InvalidInput(
            f"claim: {claim!r} is not a Kubernetes object name (lower-case letters, digits, '-' and '.', starting "
            "and ending with a letter or digit, at most 253 characters).",
            code="invalid_claim_name",
            extra={"field": "claim"},
        )
    return claim


@audited_action(
    "kubernetes.image.volume_create",
    target=("cluster", "pool", "namespace", "name"),
    params=("kube_namespace", "claim", "volume_mode", "fs_type"),
)
def image_kube_volume_create(
    *,
    actor: Actor,
    cluster: CephCluster,
    pool: str,
    namespace: str,
    name: str,
    kube_namespace: str,
    claim: str,
    volume_mode: str = "Filesystem",
    fs_type: str = "ext4",
) -> ImageVolume:
    """A static PersistentVolume of the image, bound by its claimRef to `claim` in `kube_namespace` (one of
    the tenant's Kubernetes namespaces), and that claim. For the tenant's admins."""
    claim = _claim_name(claim)
    volume_mode = _choice(volume_mode, kube_csi.VOLUME_MODES, "volume_mode")
    fs_type = _choice(fs_type, kube_csi.FS_TYPES, "fs_type")
    image = ceph_csi.csi_image_get(actor=actor, cluster=cluster, pool=pool, namespace=namespace, name=name)
    binding = binding_for(cluster, pool, namespace)
    assert binding is not None  # csi_image_get refuses an image in no tenant's place
    place = ceph_csi.csi_place_get(actor=actor, binding=binding)
    kube = kube_cluster_of(binding)
    owner = registry_namespace_owners(kube_cluster=kube).get(kube_namespace)
    if owner is None or owner.pk != binding.tenant_id:
        raise InvalidInput(
            f"kube_namespace: {kube_namespace} is not one of tenant {binding.tenant}'s namespaces on Kubernetes "
            f"cluster {kube.name} (its registry quota lists them).",
            code="kube_namespace_not_tenants",
            extra={"field": "kube_namespace"},
        )
    if image.watchers:
        raise Conflict(_problems(image)[0], code="image_busy", component="ceph")
    if ceph_csi.kernel_unmappable(image.features):
        raise InvalidInput(_problems(image)[-1], code="image_features_unmappable", extra={"field": "features"})
    csi = kube_csi.CsiSettings.current()
    target = _target(kube, place)
    secret = kube_csi.csi_object_name(binding.tenant.slug, binding.namespace)
    volume_name = kube_csi.kube_name("berth", binding.tenant.slug, namespace, name)
    volume = kube_csi.persistent_volume_manifest(
        name=volume_name,
        tenant=binding.tenant.slug,
        provisioner=target.provisioner,
        cluster_id=target.cluster_id,
        pool=pool,
        rbd_namespace=namespace,
        image=name,
        size=image.size,
        features=image.features,
        secret=secret,
        secret_namespace=csi.namespace,
        claim_namespace=kube_namespace,
        claim=claim,
        volume_mode=volume_mode,
        fs_type=fs_type,
    )
    claim_object = kube_csi.claim_manifest(
        name=claim, namespace=kube_namespace, tenant=binding.tenant.slug, volume=volume_name, size=image.size,
        volume_mode=volume_mode,
    )  # fmt: skip
    objects = kube_csi.static_volume_apply(cluster=kube, volume=volume, claim=claim_object)
    return ImageVolume(image, kube, kube_namespace, claim, objects)


# --- volumes whose image is gone -----------------------------------------------------------------


@dataclass(frozen=True)
class StrandedVolume:
    kube_cluster: str
    volume: str
    claim: str
    place: str
    image: str


@dataclass(frozen=True)
class StrandedVolumes:
    volumes: list[StrandedVolume]
    # Kubernetes clusters or Ceph places Berth could not read: their volumes are not judged.
    unread: list[str]


def kube_volumes_stranded(*, actor: Actor) -> StrandedVolumes:
    """The PersistentVolumes (of the configured driver, naming one of Berth's clusterIDs) whose image does not
    exist: pods claiming them cannot start. For platform admins."""
    tenancy.require_platform_admin(actor, "list Kubernetes volumes whose image is gone")
    bindings = {
        ceph_csi.csi_cluster_id(binding): binding
        for binding in StorageBinding.objects.select_related("cluster").exclude(namespace="")
    }
    stranded: list[StrandedVolume] = []
    unread: list[str] = []
    names: dict[tuple[int, str, str], set[str] | None] = {}
    for kube in KubeCluster.objects.order_by("name"):
        try:
            volumes = kube_csi.csi_volumes_list(cluster=kube)
        except BerthError as error:
            unread.append(f"Kubernetes cluster {kube.name}: {error.message}")
            continue
        for volume in volumes:
            binding = bindings.get(volume.cluster_id)
            if binding is None or not volume.image:
                continue
            key = (binding.cluster_id, volume.pool, binding.namespace)
            place = f"{binding.cluster.name}:{volume.pool}/{binding.namespace}"
            if key not in names:
                try:
                    names[key] = ceph_csi.csi_image_names(
                        actor=actor, cluster=binding.cluster, pool=volume.pool, namespace=binding.namespace
                    )
                except NotFound:
                    names[key] = set()
                except BerthError as error:
                    names[key] = None
                    unread.append(f"{place}: {error.message}")
            present = names[key]
            if present is not None and volume.image not in present:
                claim = f"{volume.claim_namespace}/{volume.claim}" if volume.claim else ""
                stranded.append(StrandedVolume(kube.name, volume.name, claim, place, volume.image))
    return StrandedVolumes(stranded, unread)
