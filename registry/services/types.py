"""What the registry services return: plain frozen values, never Kubernetes client objects, so
views, serializers and templates cannot reach past the service layer. None holds a password."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dashboard.core.errors import BerthError
from registry.dockerconfig import DisplayEntry

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"


@dataclass(frozen=True)
class PullSecretInfo:
    cluster: str
    namespace: str
    name: str
    type: str
    entries: tuple[DisplayEntry, ...]
    """Every registry in the secret, with usernames but never passwords."""
    service_accounts: tuple[str, ...]
    """Service accounts of the namespace whose imagePullSecrets list this secret."""
    pods: tuple[str, ...]
    """Pods whose spec lists this secret."""
    labels: dict[str, str] = field(default_factory=dict)
    created: datetime | None = None
    problem: str | None = None
    """Why the secret's data cannot be read as registry logins, when it cannot."""

    @property
    def managed_by_berth(self) -> bool:
        return self.labels.get(MANAGED_BY_LABEL) == "berth"


@dataclass(frozen=True)
class NamespaceResult:
    """What creating a secret did in one namespace."""

    namespace: str
    outcome: str
    """"created", "updated" or "failed"."""
    secret: PullSecretInfo | None = None
    """The secret as it now is, whenever it exists (also after a failed link)."""
    linked: tuple[str, ...] = ()
    not_linked: tuple[str, ...] = ()
    error: BerthError | None = None

    @property
    def ok(self) -> bool:
        return self.outcome != "failed"

    @property
    def message(self) -> str:
        if self.error is not None:
            return self.error.message
        linked = f", linked to {', '.join(self.linked)}" if self.linked else ", linked to no service account"
        return f"{self.outcome} in {self.namespace}{linked}"


@dataclass(frozen=True)
class SecretDeleteResult:
    namespace: str
    name: str
    unlinked: tuple[str, ...]
    """Service accounts the secret was removed from before it was deleted."""
    pods_still_referencing: tuple[str, ...]
    """Pods whose spec names the secret; a pod's spec cannot change, so they keep the dangling name."""


@dataclass(frozen=True)
class EventInfo:
    type: str
    reason: str
    message: str
    count: int
    last_seen: datetime | None


@dataclass(frozen=True)
class SecretConsidered:
    """A pull secret the kubelet looks at for an image, and what Berth found in it."""

    name: str
    source: str
    """"pod" (the pod's spec) or "service account"."""
    status: str
    """"ok", "missing", "not a pull secret" or "unreadable"."""
    detail: str = ""


@dataclass(frozen=True)
class CredentialVerdict:
    secret: str
    server: str
    """The key as the secret holds it."""
    username: str
    reason: str


@dataclass(frozen=True)
class ImageDiagnosis:
    image: str
    """The normalised name the kubelet looks credentials up by, with tag or digest."""
    service_account: str
    secrets: tuple[SecretConsidered, ...]
    used: tuple[CredentialVerdict, ...]
    """Matching entries, in the order the kubelet tries them; the first is used."""
    not_used: tuple[CredentialVerdict, ...]
    findings: tuple[str, ...]
    """Sentences for a person: why nothing matches, what is missing, what to do."""

    @property
    def match(self) -> CredentialVerdict | None:
        return self.used[0] if self.used else None


@dataclass(frozen=True)
class ContainerDiagnosis:
    container: str
    image: str
    reason: str
    """The waiting reason: ErrImagePull or ImagePullBackOff."""
    message: str
    diagnosis: ImageDiagnosis | None
    problem: str | None = None
    """Why the image could not be diagnosed (an unparsable reference)."""


@dataclass(frozen=True)
class PodDiagnosis:
    pod: str
    namespace: str
    service_account: str
    containers: tuple[ContainerDiagnosis, ...]
    events: tuple[EventInfo, ...]


@dataclass(frozen=True)
class PullFailure:
    """One container of a pod waiting in ErrImagePull or ImagePullBackOff."""

    namespace: str
    pod: str
    container: str
    image: str
    reason: str


@dataclass(frozen=True)
class KubeClusterStatus:
    """What the overview shows of a Kubernetes cluster."""

    cluster: str
    version: str
    """The API server's gitVersion: read live, so having it means the server answered."""
    namespaces: tuple[str, ...] | None
    """The namespaces looked at: None for all of them (platform admins), else the actor's tenants'."""
    failing: tuple[PullFailure, ...]
    pods_error: BerthError | None = None
    """Why the pods could not be listed (e.g. Berth may not list them cluster-wide)."""
