"""Pull doctor: why a pod cannot pull its image, in terms of the secrets the kubelet looks at.

The kubelet uses the pull secrets in the pod's spec only. The ServiceAccount admission plugin
copies the service account's imagePullSecrets into a pod's spec when the pod is created with
none of its own, so a secret linked to the service account later does not reach existing pods;
the doctor says so when that is the case. For an image typed in by hand (before any pod exists)
the service account's secrets are the ones a new pod would get.

Which entry matches, and why the others do not, comes from `registry.imagematch`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dashboard.core.actors import Actor
from dashboard.core.errors import BerthError
from registry.dockerconfig import ConfigFormat, DockerConfigError, decode_secret
from registry.imagematch import ImageReferenceError, PullCredential, Verdict, match_image, parse_image
from registry.models import KubeCluster
from registry.services import tenancy as registry_tenancy
from registry.services.kube import KubeApi
from registry.services.types import (
    ContainerDiagnosis,
    CredentialVerdict,
    EventInfo,
    ImageDiagnosis,
    KubeClusterStatus,
    PodDiagnosis,
    PullFailure,
    SecretConsidered,
)
from registry.validation import validate_namespace, validate_subdomain

if TYPE_CHECKING:
    from kubernetes import client

PULL_FAILURE_REASONS = frozenset({"ErrImagePull", "ImagePullBackOff"})
NODE_CREDENTIALS_NOTE = (
    "node credentials (a kubelet config.json on the node, e.g. /var/lib/kubelet/config.json) are used only when "
    "no pull secret matches, as here; Berth cannot see them, so a pull may still work on nodes that have them"
)


@dataclass
class _Secrets:
    """The namespace's pull secrets, each read at most once per diagnosis run."""

    api: KubeApi
    namespace: str
    _read: dict[str, tuple[str, str, list[PullCredential]]] = field(default_factory=dict)

    def look_at(self, name: str) -> tuple[str, str, list[PullCredential]]:
        """(status, detail, credentials); the detail of a missing secret is left for the caller."""
        if name not in self._read:
            self._read[name] = self._examine(name)
        return self._read[name]

    def _examine(self, name: str) -> tuple[str, str, list[PullCredential]]:
        secret = self.api.find_secret(self.namespace, name)
        if secret is None:
            return "missing", "", []
        try:
            config_format = ConfigFormat.for_secret_type(secret.type)
        except DockerConfigError:
            return (
                "not a pull secret",
                (
                    f"secret {name} is of type {secret.type}; the kubelet reads registry "
                    "logins only from kubernetes.io/dockerconfigjson and "
                    "kubernetes.io/dockercfg secrets"
                ),
                [],
            )
        encoded = (secret.data or {}).get(config_format.data_key)
        if encoded is None:
            return "unreadable", f"secret {name} has no {config_format.data_key} key", []
        try:
            entries = decode_secret(secret.type, base64.b64decode(encoded))
        except DockerConfigError as error:
            return "unreadable", f"secret {name} cannot be read: {error.message}", []
        credentials = [PullCredential(server=entry.key, secret=name, username=entry.username) for entry in entries]
        servers = ", ".join(entry.key for entry in entries) or "no registry"
        return "ok", f"holds {servers}", credentials


def pull_doctor(*, actor: Actor, cluster: KubeCluster, namespace: str) -> list[PodDiagnosis]:
    """Every pod of `namespace` with a container waiting in ErrImagePull or ImagePullBackOff."""
    validate_namespace(namespace)
    registry_tenancy.registry_scope(actor=actor, cluster=cluster, namespace=namespace)
    api = KubeApi(cluster)
    failing = [pod for pod in api.list_pods(namespace) if _pull_failures(pod)]
    if not failing:
        return []
    events = _events_by_pod(api.list_events(namespace))
    secrets = _Secrets(api, namespace)
    accounts: dict[str, client.V1ServiceAccount | None] = {}
    diagnoses = []
    for pod in sorted(failing, key=lambda p: p.metadata.name):
        account_name = pod.spec.service_account_name or "default"
        if account_name not in accounts:
            accounts[account_name] = api.find_service_account(namespace, account_name)
        pod_secrets = _names(pod.spec.image_pull_secrets)
        containers = []
        for container_status, image in _pull_failures(pod):
            waiting = container_status.state.waiting
            try:
                diagnosis = _diagnose(
                    secrets,
                    namespace,
                    image,
                    account_name,
                    accounts[account_name],
                    [(name, "pod") for name in pod_secrets],
                    pod_name=pod.metadata.name,
                )
                problem = None
            except ImageReferenceError as error:
                diagnosis, problem = None, error.message
            containers.append(
                ContainerDiagnosis(
                    container=container_status.name,
                    image=image,
                    reason=waiting.reason,
                    message=waiting.message or "",
                    diagnosis=diagnosis,
                    problem=problem,
                )
            )
        diagnoses.append(
            PodDiagnosis(
                pod=pod.metadata.name,
                namespace=namespace,
                service_account=account_name,
                containers=tuple(containers),
                events=tuple(events.get(pod.metadata.uid, ())),
            )
        )
    return diagnoses


def kube_cluster_status(*, actor: Actor, cluster: KubeCluster) -> KubeClusterStatus:
    """The API server's version and the pods failing to pull in the namespaces `actor` may see (every
    namespace for platform admins). The version is read first: a server that does not answer fails
    the whole call, while pods Berth may not list are reported beside the version."""
    namespaces = registry_tenancy.registry_namespaces_for(actor=actor, cluster=cluster)
    api = KubeApi(cluster)
    version = api.server_version()
    try:
        pods = (
            api.list_pods_everywhere()
            if namespaces is None
            else [pod for namespace in namespaces for pod in api.list_pods(namespace)]
        )
    except BerthError as error:
        return KubeClusterStatus(
            cluster=cluster.name,
            version=version,
            namespaces=_tuple_or_none(namespaces),
            failing=(),
            pods_error=error,
        )
    failing = [
        PullFailure(
            namespace=pod.metadata.namespace,
            pod=pod.metadata.name,
            container=status.name,
            image=image,
            reason=status.state.waiting.reason,
        )
        for pod in pods
        for status, image in _pull_failures(pod)
    ]
    return KubeClusterStatus(
        cluster=cluster.name,
        version=version,
        namespaces=_tuple_or_none(namespaces),
        failing=tuple(sorted(failing, key=lambda failure: (failure.namespace, failure.pod, failure.container))),
    )


def _tuple_or_none(names: list[str] | None) -> tuple[str, ...] | None:
    return None if names is None else tuple(names)


def pull_doctor_for_image(
    *, actor: Actor, cluster: KubeCluster, namespace: str, image: str, service_account: str = "default"
) -> ImageDiagnosis:
    """What a new pod running `image` as `service_account` (with no pull secrets of its own) would get."""
    validate_namespace(namespace)
    validate_subdomain(service_account, field="service_account")
    parse_image(image)  # bad input is refused before any cluster call
    registry_tenancy.registry_scope(actor=actor, cluster=cluster, namespace=namespace)
    api = KubeApi(cluster)
    account = api.find_service_account(namespace, service_account)
    considered = [(name, "service account") for name in _names(account.image_pull_secrets if account else None)]
    return _diagnose(_Secrets(api, namespace), namespace, image, service_account, account, considered)


def _names(references: list[client.V1LocalObjectReference] | None) -> list[str]:
    return [reference.name for reference in references or () if reference and reference.name]


def _pull_failures(pod: client.V1Pod) -> list[tuple[client.V1ContainerStatus, str]]:
    """(container status, image as the spec names it) of each container failing to pull."""
    spec_images = {
        container.name: container.image
        for container in [*(pod.spec.init_containers or ()), *(pod.spec.containers or ())]
    }
    statuses = (
        [*(pod.status.init_container_statuses or ()), *(pod.status.container_statuses or ())] if pod.status else []
    )
    return [
        (status, spec_images.get(status.name) or status.image)
        for status in statuses
        if status.state and status.state.waiting and status.state.waiting.reason in PULL_FAILURE_REASONS
    ]


def _events_by_pod(events: list[client.CoreV1Event]) -> dict[str, list[EventInfo]]:
    grouped: dict[str, list[EventInfo]] = {}
    for event in events:
        involved = event.involved_object
        if involved is None or involved.kind != "Pod":
            continue
        grouped.setdefault(involved.uid, []).append(
            EventInfo(
                type=event.type or "",
                reason=event.reason or "",
                message=event.message or "",
                count=event.count or 1,
                last_seen=event.last_timestamp or event.event_time or event.first_timestamp,
            )
        )
    for infos in grouped.values():
        infos.sort(key=lambda info: (info.last_seen is None, info.last_seen))
    return grouped


def _diagnose(
    secrets: _Secrets,
    namespace: str,
    image: str,
    account_name: str,
    account: client.V1ServiceAccount | None,
    considered_names: list[tuple[str, str]],
    pod_name: str | None = None,
) -> ImageDiagnosis:
    reference = parse_image(image)
    considered: list[SecretConsidered] = []
    credentials: list[PullCredential] = []
    for name, source in considered_names:
        status, detail, its_credentials = secrets.look_at(name)
        if status == "missing":
            owner = f"pod {pod_name}" if source == "pod" else f"service account {account_name}"
            detail = f"secret {name} is referenced by {owner} but does not exist in namespace {namespace}"
        considered.append(SecretConsidered(name=name, source=source, status=status, detail=detail))
        credentials.extend(its_credentials)
    report = match_image(reference, credentials)
    findings = [found.detail for found in considered if found.status != "ok"]
    if account is None:
        findings.append(
            f"service account {account_name} does not exist in namespace {namespace}"
            + (": a pod using it is refused when it is created" if pod_name is None else "")
        )
    if pod_name is not None and account is not None:
        pod_secret_names = {name for name, _ in considered_names}
        late = [name for name in _names(account.image_pull_secrets) if name not in pod_secret_names]
        if late:
            findings.append(
                f"service account {account_name} lists {', '.join(late)}, which pod {pod_name} does "
                "not have: the pod took its pull secrets when it was created; recreate it (e.g. "
                "restart its deployment) to use them"
            )
    if not considered_names:
        holder = f"pod {pod_name} and service account {account_name}" if pod_name else f"service account {account_name}"
        findings.append(f"{holder} list no image pull secrets; the kubelet pulls {reference.name} without credentials")
        findings.append(NODE_CREDENTIALS_NOTE)
    elif not report.used:
        findings.extend(verdict.reason for verdict in report.not_used)
        findings.append(f"no secret holds a login for {reference.name}; the kubelet pulls it without credentials")
        findings.append(NODE_CREDENTIALS_NOTE)
    return ImageDiagnosis(
        image=str(reference),
        service_account=account_name,
        secrets=tuple(considered),
        used=tuple(_verdict(verdict) for verdict in report.used),
        not_used=tuple(_verdict(verdict) for verdict in report.not_used),
        findings=tuple(findings),
    )


def _verdict(verdict: Verdict) -> CredentialVerdict:
    credential = verdict.credential
    return CredentialVerdict(
        secret=credential.secret, server=credential.server, username=credential.username, reason=verdict.reason
    )
