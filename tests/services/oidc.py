"""A real OpenID provider for the SSO tests: panva's certified `oidc-provider` (npm, pinned by
tests/services/oidc/package-lock.json) run by Node on a free loopback port.

Keycloak was the other candidate; its JVM takes 20-40 s to start on the test machines' two cores, which the
suite's time budget cannot carry, while this one is up in about a second. Dependencies are installed with
`npm ci` into a cache folder named after the lock's hash, so a clean clone needs only `node` and `npm`.

The provider's accounts, clients and seen events are changed and read at run time through its
/test-admin/ endpoints (see provider.mjs), so one provider serves the whole session.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.services.postgres import free_loopback_port

HERE = Path(__file__).resolve().parent / "oidc"
NODE = os.environ.get("BERTH_NODE", "node")
NPM = os.environ.get("BERTH_NPM", "npm")
API_AUDIENCE = "urn:berth:api"
KEY_ID = "berth-test-1"


def _installed_modules() -> Path:
    lock = (HERE / "package-lock.json").read_bytes()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "berth"
    folder = cache / f"oidc-provider-{hashlib.sha256(lock).hexdigest()[:16]}"
    if not (folder / "node_modules" / "oidc-provider").is_dir():
        staging = folder.with_name(folder.name + f".{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(HERE / name, staging / name)
        subprocess.run(
            [NPM, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=staging,
            check=True,
            timeout=300,
        )
        # Renamed into place, so a concurrent run sees either nothing or a complete install.
        try:
            staging.rename(folder)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    # The script runs beside its node_modules: ES modules resolve packages from their own folder only.
    shutil.copy(HERE / "provider.mjs", folder / "provider.mjs")
    return folder


@dataclass
class OidcProvider:
    issuer: str
    admin_token: str
    process: subprocess.Popen[bytes]
    log: Path
    signing_key: rsa.RSAPrivateKey

    def sign(self, claims: dict[str, Any], *, key: Any = None, algorithm: str = "RS256") -> str:
        """A JWT signed with the provider's own key (or `key`), with the provider's key id in its header."""
        return jwt.encode(claims, key or self.signing_key, algorithm=algorithm, headers={"kid": KEY_ID})

    def _admin(self, method: str, path: str, body: Any = None) -> requests.Response:
        response = requests.request(
            method,
            f"{self.issuer}/test-admin/{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=10,
        )
        response.raise_for_status()
        return response

    def set_account(self, account_id: str, **claims: Any) -> None:
        """Create or replace an account (its claims: email, preferred_username, groups, ...)."""
        self._admin("PUT", f"accounts/{account_id}", claims)

    def set_client(self, client_id: str, **metadata: Any) -> None:
        self._admin("PUT", f"clients/{client_id}", {"client_id": client_id, **metadata})

    def events(self) -> list[str]:
        return list(self._admin("GET", "events").json())

    def discovery(self) -> dict[str, Any]:
        return dict(requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=10).json())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_provider(workdir: Path) -> OidcProvider:
    if shutil.which(NODE) is None or shutil.which(NPM) is None:
        raise RuntimeError(f"{NODE} and {NPM} are needed for the SSO tests' OpenID provider (Node.js 20 or later).")
    folder = _installed_modules()
    port, token = free_loopback_port(), secrets.token_urlsafe(24)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**jwt.algorithms.RSAAlgorithm.to_jwk(key, as_dict=True), "kid": KEY_ID}
    # PyJWT marks a private key "sign" only; the provider also verifies with it (the id_token_hint of a logout).
    del jwk["key_ops"]
    log = workdir / "oidc-provider.log"
    process = subprocess.Popen(
        [NODE, str(folder / "provider.mjs")],
        cwd=folder,
        env={
            **os.environ,
            "OIDC_PORT": str(port),
            "OIDC_ADMIN_TOKEN": token,
            "OIDC_API_AUDIENCE": API_AUDIENCE,
            "OIDC_SIGNING_KEY": json.dumps(jwk),
        },
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    provider = OidcProvider(
        issuer=f"http://127.0.0.1:{port}", admin_token=token, process=process, log=log, signing_key=key
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the OpenID provider exited ({process.returncode}):\n{log.read_text()[-4000:]}")
        try:
            if provider.discovery().get("issuer") == provider.issuer:
                return provider
        except (requests.ConnectionError, ValueError):
            pass
        time.sleep(0.1)
    provider.stop()
    raise RuntimeError(f"the OpenID provider did not answer within 30 s:\n{log.read_text()[-4000:]}")
