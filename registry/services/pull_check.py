"""Pull check: may a new pod pull this image? The pull doctor's matcher picks the credentials the
kubelet would try (the service account's pull secrets, in the kubelet's order); each is tried with a
manifest ``HEAD`` (`registry_login.check_pull`) until one works, as the kubelet does, and the answer
tells apart a failing login, a login without pull permission on the repository, a missing tag or
manifest, and TLS or network errors.

Passwords are read from the Secrets for the check only; results carry usernames and outcomes.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from dashboard.audit.services import audit_result, audited_action
from dashboard.core.actors import Actor
from dashboard.tenancy import services as tenancy
from registry.dockerconfig import ConfigFormat, DockerConfigError, secret_logins
from registry.imagematch import parse_image
from registry.models import KubeCluster
from registry.services import tenancy as registry_tenancy
from registry.services.doctor import NODE_CREDENTIALS_NOTE, pull_doctor_for_image
from registry.services.kube import KubeApi
from registry.services.registry_login import PullOutcome, PullResult, check_pull, runtime_server
from registry.services.types import ImageDiagnosis
from registry.validation import validate_namespace, validate_subdomain


@dataclass(frozen=True)
class PullAttempt:
    secret: str | None
    """None: without credentials, as the kubelet pulls when no pull secret matches."""
    server: str | None
    username: str | None
    outcome: PullOutcome
    message: str


@dataclass(frozen=True)
class PullCheck:
    image: str
    diagnosis: ImageDiagnosis
    attempts: tuple[PullAttempt, ...]
    notes: tuple[str, ...]

    @property
    def outcome(self) -> PullOutcome:
        return self.decisive.outcome

    @property
    def message(self) -> str:
        return self.decisive.message

    @property
    def decisive(self) -> PullAttempt:
        """The attempt that worked, or else the first one: the kubelet's first choice."""
        return next((attempt for attempt in self.attempts if attempt.outcome is PullOutcome.OK), self.attempts[0])


@audited_action("registry.pull.check", target=("cluster", "namespace", "image"), params=("service_account",))
def pull_check(
    *, actor: Actor, cluster: KubeCluster, namespace: str, image: str, service_account: str = "default"
) -> PullCheck:
    """Needs the operator role in the namespace's tenant: it makes Berth connect to the registry with
    the namespace's credentials. Raises `DestinationRefused` where Berth does not connect."""
    validate_namespace(namespace)
    validate_subdomain(service_account, field="service_account")
    reference = parse_image(image)
    registry_tenancy.registry_scope(actor=actor, cluster=cluster, namespace=namespace, role=tenancy.OPERATOR)
    diagnosis = pull_doctor_for_image(
        actor=actor, cluster=cluster, namespace=namespace, image=image, service_account=service_account
    )
    server = runtime_server(reference.domain)
    repository, tag_or_digest = reference.repository, reference.digest or reference.tag or "latest"
    api = KubeApi(cluster)
    attempts = []
    for verdict in diagnosis.used:
        password = _password(api, namespace, verdict.secret, verdict.server)
        if password is None:
            continue
        result = check_pull(server, repository, tag_or_digest, username=verdict.username, password=password)
        attempts.append(_attempt(result, verdict.secret, verdict.server))
        if result.ok:
            break
    notes = []
    if not attempts:
        attempts.append(_attempt(check_pull(server, repository, tag_or_digest), None, None))
        notes.append(NODE_CREDENTIALS_NOTE)
    check = PullCheck(image=str(reference), diagnosis=diagnosis, attempts=tuple(attempts), notes=tuple(notes))
    audit_result(outcome=check.outcome.value)
    return check


def _attempt(result: PullResult, secret: str | None, server: str | None) -> PullAttempt:
    return PullAttempt(
        secret=secret, server=server, username=result.username, outcome=result.outcome, message=result.message
    )


def _password(api: KubeApi, namespace: str, secret_name: str, key: str) -> str | None:
    secret = api.find_secret(namespace, secret_name)
    if secret is None:
        return None
    try:
        encoded = (secret.data or {}).get(ConfigFormat.for_secret_type(secret.type).data_key)
        logins = secret_logins(secret.type, base64.b64decode(encoded or ""))
    except (DockerConfigError, ValueError):
        return None
    return next((credential.password for found, credential in logins if found == key), None)
