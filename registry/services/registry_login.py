""" "Test login": do these credentials open this registry?

The check follows the registry v2 handshake that ``docker login`` uses: ``GET /v2/`` without
credentials; a ``Basic`` challenge is answered by asking again with the credentials, a ``Bearer``
challenge by fetching a token from the challenge's realm with them and asking again with the
token. Asking anonymously first means the password only goes where a registry asked for it.

The server is given as in a pull Secret (see `registry.dockerconfig.parse_server`); Docker Hub is
tested at ``registry-1.docker.io``. TLS is required, except that ``http://`` spelt out in front of
a loopback host (``http://localhost:5000``, ``http://127.0.0.1:5000``) talks plain HTTP to a
development registry. Credentials never travel over plain HTTP to any other host, token realms
included.

The password is never logged and never part of a result: results are shown to users and logged.
"""

from __future__ import annotations

import enum
import ipaddress
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from registry.dockerconfig import DockerConfigError, parse_server

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0
DOCKER_HUB_API_HOST = "registry-1.docker.io"
_USER_AGENT = "berth-registry-login"
_CHALLENGE_PARAM_RE = re.compile(r'([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))')


class LoginOutcome(enum.StrEnum):
    OK = "ok"
    WRONG_CREDENTIALS = "wrong_credentials"
    UNREACHABLE = "unreachable"
    TLS_ERROR = "tls_error"
    UNEXPECTED_RESPONSE = "unexpected_response"
    """The server answered, but not as a registry does (no /v2/, a redirect, a broken token service)."""


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    message: str
    endpoint: str
    auth_scheme: str | None = None
    """"basic" or "bearer" once the registry has asked for one; None before that or if it never did."""

    @property
    def ok(self) -> bool:
        return self.outcome is LoginOutcome.OK


class _Stop(Exception):
    """Ends the handshake early with its result."""

    def __init__(self, result: LoginResult) -> None:
        super().__init__(result.message)
        self.result = result


def registry_endpoint(server: str) -> str:
    """The ``/v2/`` URL to test for `server`; raises `DockerConfigError` for servers that cannot be tested."""
    explicit_http = server.strip().lower().startswith("http://")
    address = parse_server(server)
    if any(c in address.host for c in "*?"):
        raise DockerConfigError(
            f"{address.key} is a wildcard key; test a concrete registry host instead", field="server"
        )
    host = DOCKER_HUB_API_HOST if address.is_docker_hub else address.host
    if explicit_http and not _is_loopback(host):
        raise DockerConfigError(
            f"plain http:// is only allowed for a registry on this machine (localhost, "
            f"127.0.0.1, [::1]); {host} must be reached over https",
            field="server",
        )
    port = f":{address.port}" if address.port is not None else ""
    return f"{'http' if explicit_http else 'https'}://{host}{port}/v2/"


def check_login(
    server: str,
    username: str,
    password: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    session: requests.Session | None = None,
) -> LoginResult:
    """Try `username`/`password` against `server`'s registry API, within about `timeout` seconds in all.

    Raises `DockerConfigError` when `server` itself is not usable; every network answer or failure
    is a `LoginResult`.
    """
    endpoint = registry_endpoint(server)
    handshake = _Handshake(
        endpoint=endpoint, username=username, password=password, deadline=time.monotonic() + timeout, timeout=timeout
    )
    try:
        if session is not None:
            result = handshake.run(session)
        else:
            with requests.Session() as own_session:
                result = handshake.run(own_session)
    except _Stop as stop:
        result = stop.result
    logger.info("registry login check at %s as %s: %s", endpoint, username, result.outcome.value)
    return result


@dataclass
class _Handshake:
    endpoint: str
    username: str
    password: str = field(repr=False)
    deadline: float
    timeout: float
    auth_scheme: str | None = None

    def run(self, session: requests.Session) -> LoginResult:
        response = self._get(session, self.endpoint)
        if response.status_code == 200:
            return self._result(
                LoginOutcome.OK,
                f"{self._host(self.endpoint)} lets anyone use its API; the "
                "credentials were not needed, so they were not checked",
            )
        if response.status_code != 401:
            return self._unexpected(response, self.endpoint)
        scheme, params = _parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if scheme == "basic":
            self.auth_scheme = "basic"
            return self._judge(self._get(session, self.endpoint, auth=self._basic_auth()))
        if scheme == "bearer":
            self.auth_scheme = "bearer"
            token = self._token(session, params)
            return self._judge(
                self._get(session, self.endpoint, headers={"Authorization": f"Bearer {token}"}),
                refused=LoginOutcome.UNEXPECTED_RESPONSE,
                refused_message=f"{self._host(self.endpoint)} refused the token its own token "
                "service issued; the registry's token auth is misconfigured",
            )
        return self._result(
            LoginOutcome.UNEXPECTED_RESPONSE,
            f"{self._host(self.endpoint)} asked for authentication it did not name in a usable "
            "way (no Basic or Bearer challenge)",
        )

    def _judge(
        self,
        response: requests.Response,
        *,
        refused: LoginOutcome = LoginOutcome.WRONG_CREDENTIALS,
        refused_message: str | None = None,
    ) -> LoginResult:
        host = self._host(self.endpoint)
        if response.status_code == 200:
            return self._result(LoginOutcome.OK, f"{host} accepted the login of {self.username}")
        if response.status_code in (401, 403):
            return self._result(
                refused, refused_message or f"{host} refused the login of {self.username}: wrong username or password"
            )
        return self._unexpected(response, self.endpoint)

    def _token(self, session: requests.Session, challenge: dict[str, str]) -> str:
        realm = challenge.get("realm", "")
        parts = urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _Stop(
                self._result(
                    LoginOutcome.UNEXPECTED_RESPONSE,
                    f"{self._host(self.endpoint)} sent a Bearer challenge without a usable token realm",
                )
            )
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise _Stop(
                self._result(
                    LoginOutcome.UNEXPECTED_RESPONSE,
                    f"{self._host(self.endpoint)} sends logins to a token service over plain "
                    f"http ({parts.netloc}); Berth does not send passwords unencrypted",
                )
            )
        params = {"account": self.username}
        params.update({name: challenge[name] for name in ("service", "scope") if challenge.get(name)})
        response = self._get(session, realm, auth=self._basic_auth(), params=params)
        if response.status_code in (401, 403):
            raise _Stop(
                self._result(
                    LoginOutcome.WRONG_CREDENTIALS,
                    f"the token service of {self._host(self.endpoint)} ({parts.netloc}) refused "
                    f"the login of {self.username}: wrong username or password",
                )
            )
        if response.status_code != 200:
            raise _Stop(self._unexpected(response, realm))
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        token = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise _Stop(
                self._result(
                    LoginOutcome.UNEXPECTED_RESPONSE, f"the token service at {parts.netloc} answered without a token"
                )
            )
        return token

    def _basic_auth(self) -> tuple[bytes, bytes]:
        # As bytes, because requests would encode str credentials as Latin-1; registries expect UTF-8.
        return self.username.encode("utf-8"), self.password.encode("utf-8")

    def _get(self, session: requests.Session, url: str, **kwargs: Any) -> requests.Response:
        remaining = self.deadline - time.monotonic()
        host = self._host(url)
        if remaining <= 0:
            raise _Stop(
                self._result(LoginOutcome.UNREACHABLE, f"{host} did not finish answering within {self.timeout:g} s")
            )
        headers = {"User-Agent": _USER_AGENT, **kwargs.pop("headers", {})}
        try:
            return session.get(url, headers=headers, timeout=remaining, allow_redirects=False, **kwargs)
        except requests.exceptions.SSLError as exc:
            raise _Stop(self._result(LoginOutcome.TLS_ERROR, f"TLS with {host} failed: {_tls_reason(exc)}")) from None
        except requests.exceptions.Timeout:
            raise _Stop(
                self._result(LoginOutcome.UNREACHABLE, f"{host} did not answer within {self.timeout:g} s")
            ) from None
        except requests.exceptions.ConnectionError as exc:
            raise _Stop(
                self._result(LoginOutcome.UNREACHABLE, f"could not connect to {host}: {_connection_reason(exc)}")
            ) from None
        except requests.exceptions.RequestException as exc:
            raise _Stop(
                self._result(LoginOutcome.UNEXPECTED_RESPONSE, f"request to {host} failed: {type(exc).__name__}")
            ) from None

    def _unexpected(self, response: requests.Response, url: str) -> LoginResult:
        host = self._host(url)
        if response.is_redirect:
            location = response.headers.get("Location", "")
            message = f"{host} redirects {urlsplit(url).path} to {location}; give that address as the server"
        elif response.status_code == 404 and url == self.endpoint:
            message = f"{host} has no registry API at /v2/ (HTTP 404); is this a Docker registry?"
        else:
            message = f"{host} answered HTTP {response.status_code} {response.reason or ''}".rstrip()
        return self._result(LoginOutcome.UNEXPECTED_RESPONSE, message)

    def _result(self, outcome: LoginOutcome, message: str) -> LoginResult:
        return LoginResult(outcome=outcome, message=message, endpoint=self.endpoint, auth_scheme=self.auth_scheme)

    @staticmethod
    def _host(url: str) -> str:
        return urlsplit(url).netloc


def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    params = {name.lower(): quoted if quoted else bare for name, quoted, bare in _CHALLENGE_PARAM_RE.findall(rest)}
    return scheme.lower(), {name: value.replace('\\"', '"') for name, value in params.items()}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc` and what it wraps: requests wraps urllib3, which wraps the socket error."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        reason = getattr(current, "reason", None)
        wrapped = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        current = reason if isinstance(reason, BaseException) else wrapped or current.__cause__ or current.__context__
    return chain


def _connection_reason(exc: BaseException) -> str:
    for cause in reversed(_causes(exc)):
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror.lower()
    return "connection failed"


def _tls_reason(exc: BaseException) -> str:
    for cause in reversed(_causes(exc)):
        verify_message = getattr(cause, "verify_message", None)
        if verify_message:
            return f"certificate verification failed ({verify_message})"
        reason = getattr(cause, "reason", None)
        if reason == "WRONG_VERSION_NUMBER":
            return "the server does not speak TLS on this port (if it is a local plain-HTTP registry, write http://)"
        if isinstance(reason, str) and reason:
            return reason.replace("_", " ").lower()
    return "handshake failed"
