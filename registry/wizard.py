"""State of the image-pull secret wizard, and what its review step shows.

Where the passwords are, and why
--------------------------------
Everything the operator enters except passwords lives in the Django session (`WizardState`), so
Back and Next keep it. Passwords never go into the session, and never back into HTML (no hidden
fields, no `value=` on password inputs). Between the credentials step and Create, the next request
may reach another process or another host, so they are kept where every process can reach them —
the database — but only sealed: encrypted and authenticated (AES-256-GCM) with a key made for this
one wizard, which Berth keeps nowhere. The key goes to the operator's browser in a cookie of its
own (`HttpOnly`, `SameSite=Strict`, limited to the wizard's pages and to `PASSWORD_TTL`); each
request of the wizard brings it back and the sealed passwords are opened in memory for that
request only. The sealed row is deleted after a successful Create, when the operator returns to
the credentials step (which asks again), or by the scheduler's job once `PASSWORD_TTL` has passed.
Someone who reads the database alone holds ciphertext; the browser alone holds a key to nothing.

Asking for every password again on the review step was the alternative; it makes the operator
type each one twice in a minute, which invites copying them into something worse than memory.
A request that cannot open them (expired, another browser, a cookie that was dropped) sends the
operator back to the credentials step with a message saying why, so nothing is created with a
missing password.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import yaml
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone

from dashboard.tasks.scheduler import periodic
from dashboard.tasks.services import ProgressCallback
from registry.dockerconfig import ConfigFormat, Credential
from registry.models import WizardPasswords
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


class PasswordVault:
    """The wizard's passwords for one request: sealed in the database, the key in the browser's cookie
    (see the module docstring). Call `apply(response)` on the way out, so a new key reaches the
    browser and a forgotten one is removed from it."""

    COOKIE = "berth_wizard_key"

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self._new_key: bytes | None = None
        self._forgotten = False

    def hold(self, wizard_id: str, passwords: Mapping[str, str]) -> None:
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        # The wizard id is bound into the seal: a row cannot be opened as another wizard's.
        sealed = nonce + AESGCM(key).encrypt(nonce, json.dumps(dict(passwords)).encode(), wizard_id.encode())
        WizardPasswords.objects.update_or_create(
            wizard_id=wizard_id,
            defaults={"sealed": sealed, "expires": timezone.now() + timedelta(seconds=PASSWORD_TTL)},
        )
        self._new_key, self._forgotten = key, False

    def get(self, wizard_id: str, servers: Sequence[str]) -> dict[str, str] | None:
        """The passwords for `servers`, or None when they cannot be opened any more."""
        row = WizardPasswords.objects.filter(wizard_id=wizard_id, expires__gt=timezone.now()).first()
        key = self._new_key or self._cookie_key()
        if row is None or key is None or self._forgotten:
            return None
        sealed = bytes(row.sealed)
        try:
            held = json.loads(AESGCM(key).decrypt(sealed[:12], sealed[12:], wizard_id.encode()))
        except InvalidTag:
            return None
        if not all(server in held for server in servers):
            return None
        return {server: held[server] for server in servers}

    def forget(self, wizard_id: str) -> None:
        WizardPasswords.objects.filter(wizard_id=wizard_id).delete()
        self._new_key, self._forgotten = None, True

    def apply(self, response: HttpResponseBase) -> HttpResponseBase:
        path = reverse("registry:wizard-start")
        if self._new_key is not None:
            response.set_cookie(
                self.COOKIE,
                base64.urlsafe_b64encode(self._new_key).decode(),
                max_age=PASSWORD_TTL,
                path=path,
                secure=self.request.is_secure(),
                httponly=True,
                samesite="Strict",
            )
        elif self._forgotten:
            response.delete_cookie(self.COOKIE, path=path, samesite="Strict")
        return response

    def _cookie_key(self) -> bytes | None:
        try:
            key = base64.urlsafe_b64decode(self.request.COOKIES.get(self.COOKIE, ""))
        except (ValueError, binascii.Error):
            return None
        return key if len(key) == 32 else None


@periodic(
    "registry.wizard.drop_expired",
    every=lambda: timedelta(minutes=5),
    description="Delete wizards' sealed passwords whose time is up (the browser's key has expired too)",
    audit_runs=False,
)
def wizard_passwords_drop_expired(*, progress: ProgressCallback) -> dict[str, Any]:
    dropped, _ = WizardPasswords.objects.filter(expires__lte=timezone.now()).delete()
    return {"dropped": dropped}


# --- Review ------------------------------------------------------------------------------------


def _masked_document(state: WizardState) -> dict[str, Any]:
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
