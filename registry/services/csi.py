"""The Kubernetes objects ceph-csi reads to give a tenant's pods RBD volumes, built as plain data and
written to the API server: the Secret with the tenant's Ceph key, the tenant's entry in the
`ceph-csi-config` ConfigMap, a StorageClass, and static PersistentVolumes with their claims.

The builders take what the Ceph side found (storage/services/csi.py) as plain values: the registry app
does not know the storage app. dashboard/kubevolumes joins the two and checks who may ask; the writers
here only talk to Kubernetes. A write Berth's credentials may not make (403) is not an error here: the
object comes back as one to apply by hand, so the page can show it as YAML.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import yaml
from django.conf import settings
from kubernetes import client

from dashboard.core.errors import BerthError, Conflict, InvalidInput, NotFound, PermissionDenied
from registry.models import KubeCluster
from registry.services.kube import KubeApi

MANAGED_BY = "app.kubernetes.io/managed-by"
TENANT_LABEL = "berth.io/tenant"
IMAGE_ANNOTATION = "berth.io/rbd-image"
CONFIG_KEY = "config.json"
REDACTED = "<redacted: Berth does not keep the key; mint a new one to write it>"
FS_TYPES = ("ext4", "xfs")
VOLUME_MODES = ("Filesystem", "Block")
RECLAIM_POLICIES = ("Delete", "Retain")
# Images a StorageClass creates start with this, so a tenant's image list tells them apart.
VOLUME_NAME_PREFIX = "k8s-"

CREATED, UPDATED, UNCHANGED, TO_APPLY = "created", "updated", "unchanged", "to apply"

_NOT_DNS = re.compile(r"[^a-z0-9.-]+")


def kube_name(*parts: str, limit: int = 253) -> str:
    """A DNS subdomain name from `parts` joined by '-': as written when they already make one, else
    lower-cased and cleaned with a hash of the original appended, so two originals never meet."""
    raw = "-".join(parts)
    name = _NOT_DNS.sub("-", raw.lower()).strip("-.")
    if name == raw and len(name) <= limit:
        return name
    digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-.')}-{digest}"


def csi_object_name(tenant: str, rbd_namespace: str) -> str:
    """The StorageClass's and the Secret's name: `berth-<tenant>-<namespace>`."""
    return kube_name("berth", tenant, rbd_namespace)


def _labels(tenant: str) -> dict[str, str]:
    return {MANAGED_BY: "berth", TENANT_LABEL: tenant}


@dataclass(frozen=True)
class CsiSettings:
    namespace: str
    provisioner: str
    config_map: str

    @classmethod
    def current(cls) -> CsiSettings:
        return cls(settings.BERTH_CSI_NAMESPACE, settings.BERTH_CSI_PROVISIONER, settings.BERTH_CSI_CONFIG_MAP)


# --- the objects, as plain data ----------------------------------------------------------------


def csi_secret_manifest(
    *, name: str, namespace: str, tenant: str, user_id: str, user_key: str | None
) -> dict[str, Any]:
    """ceph-csi's Secret; `user_key` None: the key is not known, and the manifest says so."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": _labels(tenant)},
        "type": "Opaque",
        "stringData": {"userID": user_id, "userKey": user_key if user_key is not None else REDACTED},
    }


def csi_config_entry(*, cluster_id: str, monitors: list[str], rados_namespace: str) -> dict[str, Any]:
    return {"clusterID": cluster_id, "monitors": list(monitors), "rbd": {"radosNamespace": rados_namespace}}


def csi_config_merged(existing: str | None, entry: dict[str, Any], *, where: str) -> str:
    """`config.json` with `entry` in place of the one with its clusterID (or appended), every other entry
    kept as it was. A value that is not ceph-csi's JSON list is refused rather than overwritten."""
    try:
        entries = json.loads(existing) if existing and existing.strip() else []
    except ValueError:
        entries = None
    if not isinstance(entries, list) or not all(isinstance(item, dict) for item in entries):
        raise InvalidInput(
            f"{where} does not hold ceph-csi's cluster list (a JSON array of objects) under {CONFIG_KEY}; Berth "
            "leaves it as it is. Fix it by hand, then try again.",
            code="csi_config_invalid",
            component="kubernetes",
        )
    replaced = [entry if item.get("clusterID") == entry["clusterID"] else item for item in entries]
    if not any(item.get("clusterID") == entry["clusterID"] for item in entries):
        replaced.append(entry)
    return json.dumps(replaced, indent=2)


def csi_config_map_manifest(*, name: str, namespace: str, config: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {CONFIG_KEY: config},
    }


def _secret_parameters(prefix: str, secret: str, namespace: str) -> dict[str, str]:
    return {
        f"csi.storage.k8s.io/{prefix}-secret-name": secret,
        f"csi.storage.k8s.io/{prefix}-secret-namespace": namespace,
    }


def storage_class_manifest(
    *,
    name: str,
    tenant: str,
    provisioner: str,
    cluster_id: str,
    pool: str,
    image_features: list[str],
    secret: str,
    secret_namespace: str,
    fs_type: str = "ext4",
    reclaim_policy: str = "Delete",
) -> dict[str, Any]:
    parameters = {
        "clusterID": cluster_id,
        "pool": pool,
        "imageFeatures": ",".join(image_features),
        **_secret_parameters("provisioner", secret, secret_namespace),
        **_secret_parameters("controller-expand", secret, secret_namespace),
        **_secret_parameters("node-stage", secret, secret_namespace),
        "csi.storage.k8s.io/fstype": fs_type,
        "volumeNamePrefix": VOLUME_NAME_PREFIX,
    }
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "labels": _labels(tenant)},
        "provisioner": provisioner,
        "parameters": parameters,
        "reclaimPolicy": reclaim_policy,
        "allowVolumeExpansion": True,
        "volumeBindingMode": "Immediate",
    }


def persistent_volume_manifest(
    *,
    name: str,
    tenant: str,
    provisioner: str,
    cluster_id: str,
    pool: str,
    rbd_namespace: str,
    image: str,
    size: int,
    features: list[str],
    secret: str,
    secret_namespace: str,
    claim_namespace: str,
    claim: str,
    volume_mode: str = "Filesystem",
    fs_type: str = "ext4",
) -> dict[str, Any]:
    """A static volume of an existing image: ceph-csi maps the image named by volumeHandle and never
    deletes it (Retain), and only `claim` in `claim_namespace` can bind it."""
    csi: dict[str, Any] = {
        "driver": provisioner,
        "volumeHandle": image,
        "volumeAttributes": {
            "clusterID": cluster_id,
            "pool": pool,
            "staticVolume": "true",
            "imageFeatures": ",".join(features),
        },
        "nodeStageSecretRef": {"name": secret, "namespace": secret_namespace},
    }
    if volume_mode == "Filesystem":
        csi["fsType"] = fs_type
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": name,
            "labels": _labels(tenant),
            "annotations": {IMAGE_ANNOTATION: "/".join(part for part in (pool, rbd_namespace, image) if part)},
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "capacity": {"storage": str(size)},
            "csi": csi,
            "persistentVolumeReclaimPolicy": "Retain",
            "volumeMode": volume_mode,
            "storageClassName": "",
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": claim_namespace,
                "name": claim,
            },
        },
    }


def claim_manifest(
    *, name: str, namespace: str, tenant: str, volume: str, size: int, volume_mode: str
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace, "labels": _labels(tenant)},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": str(size)}},
            "storageClassName": "",
            "volumeMode": volume_mode,
            "volumeName": volume,
        },
    }


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (`config.json`) as literal blocks, readable as written rather than escaped."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _string)


def manifests_yaml(manifests: Iterable[dict[str, Any]]) -> str:
    return yaml.dump_all(list(manifests), Dumper=_Dumper, sort_keys=False, default_flow_style=False)


# --- writing them ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KubeObject:
    """One object and what became of it: created, updated, unchanged, or to apply by hand (`reason`)."""

    kind: str
    name: str
    namespace: str
    outcome: str
    manifest: dict[str, Any] = field(repr=False)
    reason: str = ""

    @property
    def shown(self) -> dict[str, Any]:
        """The manifest to show: a Secret Berth wrote goes without its key (it is in Kubernetes now); one to
        apply by hand keeps it, or the key just minted would be lost."""
        if self.kind != "Secret" or self.outcome == TO_APPLY:
            return self.manifest
        return {**self.manifest, "stringData": {**self.manifest.get("stringData", {}), "userKey": REDACTED}}


def _forbidden(error: BerthError) -> bool:
    return isinstance(error, PermissionDenied) and error.code == "kube_forbidden"


def _shown(manifest: dict[str, Any], outcome: str, reason: str = "") -> KubeObject:
    metadata = manifest["metadata"]
    return KubeObject(manifest["kind"], metadata["name"], metadata.get("namespace", ""), outcome, manifest, reason)


class CsiApi(KubeApi):
    """The calls for ceph-csi's objects, each with a timeout and translated errors, answering plain dicts."""

    def __init__(self, cluster: KubeCluster) -> None:
        super().__init__(cluster)
        self.storage = client.StorageV1Api(self.core.api_client)

    def _plain(self, answer: Any) -> dict[str, Any]:
        return cast(dict[str, Any], self.core.api_client.sanitize_for_serialization(answer))

    def call(
        self, verb: str, resource: str, namespace: str | None, name: str | None, method: Callable[..., Any], *args: Any
    ) -> dict[str, Any]:
        return self._plain(self._call(verb, resource, namespace, name, method, *args))

    def find(
        self, resource: str, namespace: str | None, name: str, method: Callable[..., Any], *args: Any
    ) -> dict[str, Any] | None:
        try:
            return self.call("get", resource, namespace, name, method, *args)
        except NotFound:
            return None

    def items(self, resource: str, method: Callable[..., Any], *args: Any) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], self.call("list", resource, None, None, method, *args).get("items") or [])


def _namespace_missing(cluster: KubeCluster, namespace: str) -> NotFound:
    return NotFound(
        f"Kubernetes cluster {cluster.name} has no namespace {namespace}, where ceph-csi's Secret and ConfigMap go. "
        "Install ceph-csi there, or set BERTH_CSI_NAMESPACE to the namespace it runs in.",
        code="csi_namespace_missing",
        component="kubernetes",
    )


def _require_namespace(api: CsiApi, namespace: str) -> None:
    try:
        if api.find("namespaces", None, namespace, api.core.read_namespace, namespace) is None:
            raise _namespace_missing(api.cluster, namespace)
    except PermissionDenied as error:
        if not _forbidden(error):
            raise


def csi_secret_apply(*, cluster: KubeCluster, manifest: dict[str, Any]) -> KubeObject:
    """Create or replace ceph-csi's Secret. Only called with a key just minted: Berth never reads it back."""
    api = CsiApi(cluster)
    namespace, name = manifest["metadata"]["namespace"], manifest["metadata"]["name"]
    try:
        _require_namespace(api, namespace)
        existing = api.find("secrets", namespace, name, api.core.read_namespaced_secret, name, namespace)
        if existing is None:
            api.call("create", "secrets", namespace, name, api.core.create_namespaced_secret, namespace, manifest)
            return _shown(manifest, CREATED)
        _require_managed(cluster, existing)
        body = {
            **manifest,
            "metadata": {**manifest["metadata"], "resourceVersion": existing["metadata"]["resourceVersion"]},
        }
        api.call("update", "secrets", namespace, name, api.core.replace_namespaced_secret, name, namespace, body)
        return _shown(manifest, UPDATED)
    except PermissionDenied as error:
        if _forbidden(error):
            return _shown(manifest, TO_APPLY, error.message)
        raise


def _require_managed(cluster: KubeCluster, existing: dict[str, Any]) -> None:
    metadata = existing["metadata"]
    if (metadata.get("labels") or {}).get(MANAGED_BY) != "berth":
        where = f" in namespace {metadata['namespace']}" if metadata.get("namespace") else ""
        raise Conflict(
            f"{existing.get('kind') or 'The object'} {metadata['name']}{where} on Kubernetes cluster {cluster.name} "
            f"exists and is not managed by Berth (label {MANAGED_BY}=berth); Berth leaves it alone. Remove or "
            "rename it to let Berth write its own.",
            code="csi_object_not_managed",
            component="kubernetes",
        )


def csi_config_apply(*, cluster: KubeCluster, entry: dict[str, Any], attempts: int = 3) -> KubeObject:
    """Merge `entry` into `ceph-csi-config`, replacing under the resourceVersion read: an entry someone else
    wrote meanwhile makes the write fail (409), and the merge starts again from what is there now."""
    csi = CsiSettings.current()
    api = CsiApi(cluster)
    where = f"ConfigMap {csi.config_map} in namespace {csi.namespace} on Kubernetes cluster {cluster.name}"
    read = api.core.read_namespaced_config_map
    manifest = csi_config_map_manifest(
        name=csi.config_map, namespace=csi.namespace, config=csi_config_merged(None, entry, where=where)
    )
    try:
        _require_namespace(api, csi.namespace)
        for attempt in range(attempts):
            existing = api.find("configmaps", csi.namespace, csi.config_map, read, csi.config_map, csi.namespace)
            if existing is None:
                api.call(
                    "create", "configmaps", csi.namespace, csi.config_map,
                    api.core.create_namespaced_config_map, csi.namespace, manifest,
                )  # fmt: skip
                return _shown(manifest, CREATED)
            current = (existing.get("data") or {}).get(CONFIG_KEY)
            merged = csi_config_merged(current, entry, where=where)
            manifest = {**existing, "data": {**(existing.get("data") or {}), CONFIG_KEY: merged}}
            if current is not None and json.loads(merged) == json.loads(current):
                return _shown(_config_shown(manifest), UNCHANGED)
            try:
                api.call(
                    "update", "configmaps", csi.namespace, csi.config_map,
                    api.core.replace_namespaced_config_map, csi.config_map, csi.namespace, manifest,
                )  # fmt: skip
                return _shown(_config_shown(manifest), UPDATED)
            except Conflict:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover
    except PermissionDenied as error:
        if _forbidden(error):
            merge = (
                f" Add the entry with clusterID {entry['clusterID']} to the list in {CONFIG_KEY} of the existing "
                "ConfigMap, if there is one, rather than replacing it: ceph-csi needs the other entries too."
            )
            return _shown(_config_shown(manifest), TO_APPLY, error.message + merge)
        raise


def _config_shown(manifest: dict[str, Any]) -> dict[str, Any]:
    """The ConfigMap as one would apply it: without the server's bookkeeping."""
    metadata = {
        key: manifest["metadata"][key] for key in ("name", "namespace", "labels") if key in manifest["metadata"]
    }
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": manifest.get("data") or {}}


def storage_class_apply(*, cluster: KubeCluster, manifest: dict[str, Any]) -> KubeObject:
    """Create the StorageClass, or re-create Berth's own when it differs: Kubernetes does not let a
    class's parameters change, and volumes made from the old one keep theirs."""
    api = CsiApi(cluster)
    name = manifest["metadata"]["name"]
    try:
        existing = api.find("storageclasses", None, name, api.storage.read_storage_class, name)
        if existing is not None:
            _require_managed(cluster, {**existing, "kind": "StorageClass"})
            if all(existing.get(key) == manifest[key] for key in ("provisioner", "parameters", "reclaimPolicy")) and (
                existing.get("allowVolumeExpansion") == manifest["allowVolumeExpansion"]
            ):
                return _shown(manifest, UNCHANGED)
            api.call("delete", "storageclasses", None, name, api.storage.delete_storage_class, name)
        api.call("create", "storageclasses", None, name, api.storage.create_storage_class, manifest)
        return _shown(manifest, UPDATED if existing is not None else CREATED)
    except PermissionDenied as error:
        if _forbidden(error):
            return _shown(manifest, TO_APPLY, error.message)
        raise


def static_volume_apply(*, cluster: KubeCluster, volume: dict[str, Any], claim: dict[str, Any]) -> list[KubeObject]:
    """Create the static PersistentVolume, then its claim. Neither may exist yet: an existing one may
    already hold another image or tenant."""
    api = CsiApi(cluster)
    name, namespace, claim_name = volume["metadata"]["name"], claim["metadata"]["namespace"], claim["metadata"]["name"]
    done: list[KubeObject] = []
    try:
        if api.find("persistentvolumes", None, name, api.core.read_persistent_volume, name) is not None:
            raise Conflict(
                f"PersistentVolume {name} already exists on Kubernetes cluster {cluster.name}.",
                code="already_exists",
                component="kubernetes",
            )
        api.call("create", "persistentvolumes", None, name, api.core.create_persistent_volume, volume)
        done.append(_shown(volume, CREATED))
        api.call(
            "create", "persistentvolumeclaims", namespace, claim_name,
            api.core.create_namespaced_persistent_volume_claim, namespace, claim,
        )  # fmt: skip
        done.append(_shown(claim, CREATED))
    except PermissionDenied as error:
        if not _forbidden(error):
            raise
        shown = {item.kind for item in done}
        done += [_shown(item, TO_APPLY, error.message) for item in (volume, claim) if item["kind"] not in shown]
    except BerthError:
        if done:
            # The claim was refused: the volume alone would wait for a claim nobody makes.
            api.call("delete", "persistentvolumes", None, name, api.core.delete_persistent_volume, name)
        raise
    return done


# --- which volumes name which image ----------------------------------------------------------------


@dataclass(frozen=True)
class CsiVolume:
    """A PersistentVolume of ceph-csi's RBD driver, reduced to where its image is and who claims it."""

    name: str
    cluster_id: str
    pool: str
    image: str
    # The RADOS namespace when the volume says it itself (ceph-csi records it for volumes it provisioned in one).
    rados_namespace: str | None
    static: bool
    claim_namespace: str
    claim: str


def csi_volumes_list(*, cluster: KubeCluster, drivers: Iterable[str] = ()) -> list[CsiVolume]:
    """The cluster's PersistentVolumes of the configured driver (and of `drivers`): static ones by their
    volumeHandle, those ceph-csi provisioned by their `imageName` attribute."""
    wanted = {CsiSettings.current().provisioner, *drivers}
    api = CsiApi(cluster)
    found = []
    for pv in api.items("persistentvolumes", api.core.list_persistent_volume):
        spec = pv.get("spec") or {}
        csi = spec.get("csi") or {}
        if csi.get("driver") not in wanted:
            continue
        attributes = csi.get("volumeAttributes") or {}
        static = attributes.get("staticVolume") == "true"
        image = csi.get("volumeHandle", "") if static else attributes.get("imageName", "")
        claim = spec.get("claimRef") or {}
        found.append(
            CsiVolume(
                name=pv["metadata"]["name"],
                cluster_id=attributes.get("clusterID", ""),
                pool=attributes.get("pool", ""),
                image=image,
                rados_namespace=attributes.get("radosNamespace"),
                static=static,
                claim_namespace=claim.get("namespace", ""),
                claim=claim.get("name", ""),
            )
        )
    return found


def csi_rados_namespaces(*, cluster: KubeCluster) -> dict[str, str]:
    """{clusterID: RADOS namespace} from `ceph-csi-config`; empty when it is missing or Berth may not read it."""
    csi = CsiSettings.current()
    api = CsiApi(cluster)
    try:
        found = api.find(
            "configmaps", csi.namespace, csi.config_map, api.core.read_namespaced_config_map, csi.config_map,
            csi.namespace,
        )  # fmt: skip
    except PermissionDenied:
        return {}
    try:
        entries = json.loads(((found or {}).get("data") or {}).get(CONFIG_KEY) or "[]")
    except ValueError:
        return {}
    if not isinstance(entries, list):
        return {}
    return {
        str(entry.get("clusterID")): str(
            (entry.get("rbd") or {}).get("radosNamespace") or entry.get("radosNamespace") or ""
        )
        for entry in entries
        if isinstance(entry, dict)
    }


def claim_pods(*, cluster: KubeCluster, namespace: str) -> dict[str, list[str]]:
    """{claim: names of the pods naming it} in one namespace."""
    api = CsiApi(cluster)
    pods: dict[str, list[str]] = {}
    for pod in api.list_pods(namespace):
        for volume in pod.spec.volumes or []:
            if volume.persistent_volume_claim is not None:
                pods.setdefault(volume.persistent_volume_claim.claim_name, []).append(pod.metadata.name)
    return pods


# --- ResourceQuotas for a StorageClass -------------------------------------------------------------


def resource_quota_manifest(
    *, name: str, namespace: str, tenant: str, storage_class: str, limit: int
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": name, "namespace": namespace, "labels": _labels(tenant)},
        "spec": {"hard": {f"{storage_class}.storageclass.storage.k8s.io/requests.storage": str(limit)}},
    }


def resource_quotas_apply(
    *, cluster: KubeCluster, storage_class: str, tenant: str, limit: int | None, tenant_namespaces: list[str]
) -> list[KubeObject]:
    """A ResourceQuota named after the class in every namespace of the cluster: the tenant's namespaces may
    claim up to `limit` bytes of the class each (none written when `limit` is None), every other namespace
    nothing. Namespaces made later get none until this runs again."""
    api = CsiApi(cluster)
    try:
        namespaces = [
            item["metadata"]["name"]
            for item in api.items("namespaces", api.core.list_namespace)
            # A namespace being deleted takes no new objects (the API server answers 403).
            if (item.get("status") or {}).get("phase") != "Terminating"
        ]
    except PermissionDenied as error:
        if not _forbidden(error):
            raise
        namespaces = list(tenant_namespaces)
        listing_refused = f"Only the tenant's namespaces: the others get no zero quota. {error.message}"
    else:
        listing_refused = ""
    done = []
    for namespace in namespaces:
        ours = namespace in tenant_namespaces
        if ours and limit is None:
            continue
        manifest = resource_quota_manifest(
            name=storage_class, namespace=namespace, tenant=tenant, storage_class=storage_class,
            limit=limit if ours and limit is not None else 0,
        )  # fmt: skip
        done.append(_resource_quota_apply(api, manifest, listing_refused))
    return done


def _resource_quota_apply(api: CsiApi, manifest: dict[str, Any], listing_refused: str) -> KubeObject:
    namespace, name = manifest["metadata"]["namespace"], manifest["metadata"]["name"]
    try:
        existing = api.find("resourcequotas", namespace, name, api.core.read_namespaced_resource_quota, name, namespace)
        if existing is None:
            api.call(
                "create", "resourcequotas", namespace, name, api.core.create_namespaced_resource_quota, namespace,
                manifest,
            )  # fmt: skip
            return _shown(manifest, CREATED, listing_refused)
        _require_managed(api.cluster, {**existing, "kind": "ResourceQuota"})
        if (existing.get("spec") or {}).get("hard") == manifest["spec"]["hard"]:
            return _shown(manifest, UNCHANGED, listing_refused)
        body = {
            **manifest,
            "metadata": {**manifest["metadata"], "resourceVersion": existing["metadata"]["resourceVersion"]},
        }
        api.call(
            "update", "resourcequotas", namespace, name, api.core.replace_namespaced_resource_quota, name, namespace,
            body,
        )  # fmt: skip
        return _shown(manifest, UPDATED, listing_refused)
    except PermissionDenied as error:
        if _forbidden(error):
            return _shown(manifest, TO_APPLY, error.message)
        raise


# --- Rook ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RookNamespace:
    """A Rook CephBlockPoolRadosNamespace: Rook writes ceph-csi's cluster list itself and names the entry."""

    name: str
    namespace: str
    cluster_id: str

    @property
    def provisioner(self) -> str:
        # Rook prefixes its drivers with the operator's namespace, which is its clusters' in the usual install.
        return f"{self.namespace}.rbd.csi.ceph.com"


def rook_namespace_find(*, cluster: KubeCluster, pool: str, rados_namespace: str) -> RookNamespace | None:
    """The CephBlockPoolRadosNamespace for pool/namespace that Rook has reconciled (its status names the
    clusterID), or None: no Rook, none for this place, or Berth may not read them."""
    api = CsiApi(cluster)
    custom = client.CustomObjectsApi(api.core.api_client)
    try:
        found = api.call(
            "list", "cephblockpoolradosnamespaces", None, None, custom.list_cluster_custom_object,
            "ceph.rook.io", "v1", "cephblockpoolradosnamespaces",
        )  # fmt: skip
    except (NotFound, PermissionDenied):
        return None
    for item in found.get("items") or []:
        spec, metadata = item.get("spec") or {}, item.get("metadata") or {}
        cluster_id = ((item.get("status") or {}).get("info") or {}).get("clusterID")
        here = spec.get("blockPoolName") == pool and (spec.get("name") or metadata.get("name")) == rados_namespace
        if here and cluster_id:
            return RookNamespace(metadata.get("name", ""), metadata.get("namespace", ""), str(cluster_id))
    return None
