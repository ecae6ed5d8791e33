"""A real Debian `docker-registry` (distribution 2.8) on loopback, for integration tests.

Two ways to guard it:

* ``htpasswd``: the registry answers Basic auth itself from a bcrypt file made by ``htpasswd -Bbn``.
* ``token``: the registry trusts JWTs from an issuer; the test is that issuer. A small HTTP token
  endpoint runs in a thread, checks Basic credentials and signs ES256 tokens whose ``x5c`` header
  carries a self-signed certificate that is also the registry's ``rootcertbundle``. Distribution
  2.8.2 verifies an ``x5c`` chain against that bundle (any extended key usage); it would equally
  accept a ``kid`` equal to the libtrust key id of a bundled certificate's key, but ``x5c`` needs
  no id computation. It rejects ``aud`` given as a list (401), so ``aud`` is the bare service string.

Plain HTTP is fine: everything listens on 127.0.0.1 and belongs to the test.
"""

from __future__ import annotations

import base64
import binascii
import ctypes
import datetime as dt
import json
import secrets
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal, NamedTuple
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REGISTRY_BINARY = "/usr/bin/docker-registry"
HTPASSWD_BINARY = "/usr/bin/htpasswd"
TOKEN_SERVICE = "berth-test-registry"
TOKEN_ISSUER = "berth-test-issuer"
STARTUP_TIMEOUT = 10.0

AuthMode = Literal["htpasswd", "token"]


class RegistryEndpoint(NamedTuple):
    url: str
    username: str
    password: str


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Resolved before any fork: the child must not load libraries while other threads may hold locks.
_prctl = ctypes.CDLL(None, use_errno=True).prctl
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # If pytest is killed outright its finalizers never run; the kernel then stops the registry.
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class TokenIssuer:
    """The token endpoint a registry in token mode sends clients to."""

    def __init__(self, *, username: str, password: str, workdir: Path) -> None:
        self._username = username
        self._password = password
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.certificate_path = workdir / "token-issuer.pem"
        certificate = self._self_signed_certificate()
        self.certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        self._x5c = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()
        self.tokens_issued = 0
        self.refusals = 0
        # Repositories this issuer grants nothing on (as a token service does for a repository the account
        # has no access to: a token still comes, with no actions for it).
        self.denied_repositories: set[str] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="token-issuer", daemon=True)

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _self_signed_certificate(self) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TOKEN_ISSUER)])
        now = dt.datetime.now(dt.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )

    def _credentials_ok(self, authorization: str | None) -> bool:
        scheme, _, encoded = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            username, sep, password = base64.b64decode(encoded, validate=True).partition(b":")
        except binascii.Error:
            return False
        return (
            bool(sep)
            and secrets.compare_digest(username, self._username.encode())
            and secrets.compare_digest(password, self._password.encode())
        )

    def _token(self, query: dict[str, list[str]]) -> str:
        now = int(time.time())
        access = []
        for scope in query.get("scope", []):
            kind, name, actions = scope.split(":", 2) if scope.count(":") >= 2 else (scope, "", "")
            granted = [] if kind == "repository" and name in self.denied_repositories else actions.split(",")
            access.append({"type": kind, "name": name, "actions": [a for a in granted if a]})
        claims = {
            "iss": TOKEN_ISSUER,
            "sub": self._username,
            "aud": TOKEN_SERVICE,
            "exp": now + 300,
            "nbf": now - 5,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        return jwt.encode(claims, self._key, algorithm="ES256", headers={"x5c": [self._x5c]})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path != "/token":
                    self._reply(404, {"errors": [{"code": "NOT_FOUND"}]})
                elif not issuer._credentials_ok(self.headers.get("Authorization")):
                    issuer.refusals += 1
                    self._reply(
                        401,
                        {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]},
                        {"WWW-Authenticate": 'Basic realm="berth-test-issuer"'},
                    )
                else:
                    issuer.tokens_issued += 1
                    token = issuer._token(parse_qs(url.query))
                    self._reply(200, {"token": token, "access_token": token, "expires_in": 300})

            def _reply(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: request lines would only clutter the test output."""

        return Handler


class DockerRegistry:
    """One registry process in its own temporary directory; a context manager."""

    def __init__(self, *, username: str, password: str, auth: AuthMode) -> None:
        if auth not in ("htpasswd", "token"):
            raise ValueError(f"auth must be 'htpasswd' or 'token', not {auth!r}")
        self.username = username
        self.password = password
        self.auth = auth
        self.token_issuer: TokenIssuer | None = None
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def endpoint(self) -> RegistryEndpoint:
        return RegistryEndpoint(self.url, self.username, self.password)

    @property
    def log_path(self) -> Path:
        assert self._tempdir is not None, "registry not started"
        return Path(self._tempdir.name) / "registry.log"

    def __enter__(self) -> DockerRegistry:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> RegistryEndpoint:
        self._tempdir = tempfile.TemporaryDirectory(prefix="berth-registry-")
        try:
            workdir = Path(self._tempdir.name)
            auth_config = self._auth_config(workdir)
            # A port picked free can be taken before the registry binds it; another one will do.
            for _attempt in range(3):
                self._port = free_loopback_port()
                if self._launch(workdir, auth_config):
                    return self.endpoint
            raise RuntimeError(f"docker-registry did not start; its log:\n{self._log_tail()}")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self._process is not None:
            self._terminate()
            self._process = None
        if self.token_issuer is not None:
            self.token_issuer.stop()
            self.token_issuer = None
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def set_password(self, password: str) -> None:
        """Change the account's password in the htpasswd file; the registry rereads the file when it changes."""
        assert self.auth == "htpasswd" and self._tempdir is not None, "only a running htpasswd registry"
        self.password = password
        self._write_htpasswd(Path(self._tempdir.name) / "htpasswd")

    def _write_htpasswd(self, path: Path) -> None:
        line = subprocess.run(
            [HTPASSWD_BINARY, "-Bbn", self.username, self.password], check=True, capture_output=True, text=True
        ).stdout
        # Written beside and renamed over it, so the registry never reads half a file.
        partial = path.with_suffix(".new")
        partial.write_text(line.strip() + "\n")
        partial.replace(path)

    def _auth_config(self, workdir: Path) -> dict:
        if self.auth == "htpasswd":
            htpasswd = workdir / "htpasswd"
            self._write_htpasswd(htpasswd)
            return {"htpasswd": {"realm": "berth-test", "path": str(htpasswd)}}
        self.token_issuer = TokenIssuer(username=self.username, password=self.password, workdir=workdir)
        self.token_issuer.start()
        return {
            "token": {
                "realm": self.token_issuer.realm,
                "service": TOKEN_SERVICE,
                "issuer": TOKEN_ISSUER,
                "rootcertbundle": str(self.token_issuer.certificate_path),
            }
        }

    def _launch(self, workdir: Path, auth_config: dict) -> bool:
        config = {
            "version": 0.1,
            "log": {"level": "info", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(workdir / "data")}, "delete": {"enabled": True}},
            "http": {"addr": f"127.0.0.1:{self._port}", "secret": secrets.token_hex(16)},
            "auth": auth_config,
        }
        config_path = workdir / "config.yml"
        config_path.write_text(yaml.safe_dump(config))
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                [REGISTRY_BINARY, "serve", str(config_path)],
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                return False
            try:
                requests.get(f"{self.url}/v2/", timeout=1)
                return True
            except requests.ConnectionError:
                time.sleep(0.05)
        self._terminate()
        self._process = None
        return False

    def _terminate(self) -> None:
        assert self._process is not None
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)

    def _log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
