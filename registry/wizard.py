"""State of the image-pull secret wizard, and what its review step shows.

Where the passwords are, and why
--------------------------------
Everything the operator enters except passwords lives in the Django session (`WizardState`), so
Back and Next keep it. Passwords never go into the session: its rows sit in the database (or a
cache) for the session's lifetime, long after the secret exists, and an encrypted copy there is
still a copy. They never go back into HTML either (no hidden fields, no `value=` on password
inputs). Between the credentials step and Create they are held in this process's memory
(`PasswordStore`), keyed by the wizard's random id and forgotten after `PASSWORD_TTL`, after a
successful Create, or when the operator returns to the credentials step (which asks for them
again). If a failed namespace is to be retried, they stay until the TTL ends, so Retry needs no
re-entry.

Asking for every password again on the review step was the alternative; it makes the operator
type each one twice in a minute, which invites copying them into something worse than memory.

Consequence for deployment: with several processes behind a load balancer, the review and Create
requests must reach the process that took the passwords (sticky sessions). A process that does
not hold them — another worker, a restart, an expired TTL — sends the operator back to the
credentials step with a message saying why, so nothing is created with a missing password.
"""

from __future__ import annotations

import json
import secrets
import shlex
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import yaml

from registry.dockerconfig import ConfigFormat, Credential
from registry.services.types import MANAGED_BY_LABEL

SESSION_KEY = "registry_wizard"
PASSWORD_TTL = 15 * 60
MASK = "********"
STEPS = ("target", "credentials", "options", "review", "result")
STEP_TITLES = {
    "target": "Target",
    "credentials": "Credentials",
    "options": "Options",
    "review": "Review",
    "result": "Result",
}


@dataclass
class RegistryRow:
    server: str
    """Normalised (`registry.dockerconfig.normalise_server`), as the secret will hold it."""
    username: str
    email: str = ""


@dataclass
class WizardState:
    """The wizard's answers so far; never a password."""

    id: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    cluster: str = ""
    namespaces: list[str] = field(default_factory=list)
    registries: list[RegistryRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    name: str = ""
    type: str = ConfigFormat.DOCKERCONFIGJSON.secret_type
    service_accounts: list[str] = field(default_factory=lambda: ["default"])
    labels: dict[str, str] = field(default_factory=dict)
    results: list[dict] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    """Steps whose Next was accepted; a later step cannot be opened before them."""

    @classmethod
    def load(cls, session: Mapping) -> WizardState | None:
        stored = session.get(SESSION_KEY)
        if not isinstance(stored, dict):
            return None
        values = dict(stored)
        values["registries"] = [RegistryRow(**row) for row in values.get("registries", [])]
        try:
            return cls(**values)
        except TypeError:
            # A session written by another version of the wizard: start again rather than fail.
            return None

    def save(self, session) -> None:
        session[SESSION_KEY] = asdict(self)

    def complete(self, step: str) -> None:
        if step not in self.completed:
            self.completed.append(step)

    def first_open_step(self) -> str:
        """The earliest step not completed yet: where a request for a later step is sent."""
        for step in STEPS:
            if step not in self.completed:
                return step
        return STEPS[-1]

    def may_open(self, step: str) -> bool:
        return all(earlier in self.completed for earlier in STEPS[: STEPS.index(step)])

    def credentials(self, passwords: Mapping[str, str]) -> list[Credential]:
        return [
            Credential(
                server=row.server, username=row.username, password=passwords[row.server], email=row.email or None
            )
            for row in self.registries
        ]


class PasswordStore:
    """Passwords of running wizards, in this process only; see the module docstring."""

    def __init__(self, ttl: float = PASSWORD_TTL) -> None:
        self.ttl = ttl
        self._held: dict[str, tuple[float, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def hold(self, wizard_id: str, passwords: Mapping[str, str]) -> None:
        with self._lock:
            self._expire()
            self._held[wizard_id] = (time.monotonic() + self.ttl, dict(passwords))

    def get(self, wizard_id: str, servers: Sequence[str]) -> dict[str, str] | None:
        """The passwords for `servers`, or None when any of them is no longer held."""
        with self._lock:
            self._expire()
            held = self._held.get(wizard_id)
        if held is None or not all(server in held[1] for server in servers):
            return None
        return {server: held[1][server] for server in servers}

    def forget(self, wizard_id: str) -> None:
        with self._lock:
            self._held.pop(wizard_id, None)

    def _expire(self) -> None:
        now = time.monotonic()
        for wizard_id in [key for key, (expires, _) in self._held.items() if expires <= now]:
            del self._held[wizard_id]


passwords = PasswordStore()


# --- Review ------------------------------------------------------------------------------------


def _masked_document(state: WizardState) -> dict:
    entries = {}
    for row in state.registries:
        entry = {"username": row.username, "password": MASK, "auth": MASK}
        if row.email:
            entry["email"] = row.email
        entries[row.server] = entry
    return {"auths": entries} if state.type == ConfigFormat.DOCKERCONFIGJSON.secret_type else entries


def masked_config_json(state: WizardState) -> str:
    return json.dumps(_masked_document(state), indent=2, sort_keys=True, ensure_ascii=False)


def review_manifest(state: WizardState) -> str:
    """The Secret for each namespace as YAML, the credentials shown as `stringData` (which the API
    server encodes into `data`) with every password and `auth` replaced by a mask."""
    data_key = ConfigFormat.for_secret_type(state.type).data_key
    documents = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": state.type,
            "metadata": {
                "name": state.name,
                "namespace": namespace,
                "labels": {**state.labels, MANAGED_BY_LABEL: "berth"},
            },
            "stringData": {data_key: masked_config_json(state) + "\n"},
        }
        for namespace in state.namespaces
    ]
    return yaml.safe_dump_all(documents, sort_keys=False, allow_unicode=True, default_flow_style=False)


def kubectl_commands(state: WizardState) -> str:
    """Commands doing what Create does, with the password left for the operator to fill in."""
    name = shlex.quote(state.name)
    lines: list[str] = []
    one_registry = len(state.registries) == 1 and state.type == ConfigFormat.DOCKERCONFIGJSON.secret_type
    if not one_registry:
        data_key = ConfigFormat.for_secret_type(state.type).data_key
        lines.append("# config.json: the document under stringData above, with the real passwords and auth")
    for namespace in state.namespaces:
        ns = shlex.quote(namespace)
        if one_registry:
            row = state.registries[0]
            email = f" --docker-email={shlex.quote(row.email)}" if row.email else ""
            lines.append(
                f"kubectl create secret docker-registry {name} --namespace {ns} "
                f"--docker-server={shlex.quote(row.server)} --docker-username={shlex.quote(row.username)} "
                f"--docker-password='<password>'{email}"
            )
        else:
            lines.append(
                f"kubectl create secret generic {name} --namespace {ns} --type={state.type} "
                f"--from-file={data_key}=config.json"
            )
        labels = " ".join(
            shlex.quote(f"{key}={value}") for key, value in {**state.labels, MANAGED_BY_LABEL: "berth"}.items()
        )
        lines.append(f"kubectl label secret {name} --namespace {ns} {labels}")
        for account in state.service_accounts:
            # A service account's imagePullSecrets is replaced whole by a patch: list the ones it has too.
            patch = json.dumps({"imagePullSecrets": [{"name": state.name}]})
            lines.append(
                f"kubectl patch serviceaccount {shlex.quote(account)} --namespace {ns} "
                f"-p {shlex.quote(patch)}  # add the secrets it already lists"
            )
    return "\n".join(lines)
