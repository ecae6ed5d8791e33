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

Where Berth connects
--------------------
The check makes Berth's server connect where a user says, so it must not become a way into the
network Berth sits in (a port scanner, or a reader of cloud metadata services):

* Every connection resolves its host and refuses it when any address is not public — loopback,
  private, link-local, unspecified, multicast, reserved, or such an address inside IPv6 — unless
  the host (``BERTH_REGISTRY_LOGIN_ALLOWED_HOSTS``, ``host`` or ``host:port``) or the addresses
  (``BERTH_REGISTRY_LOGIN_ALLOWED_NETWORKS``) are allowed. The check happens where the socket is
  opened and the socket connects to the very addresses checked, so a name that resolves to a
  public address for a check and to a private one a moment later gains nothing. TLS still names
  and verifies the host, not the address.
* A refused destination is never contacted; the refusal says which rule refused it, the same
  whether or not anything listens there.
* Redirects are not followed. A Bearer realm must be on the registry's own host, an allowed host,
  or a known token service host (``BERTH_REGISTRY_TOKEN_REALM_HOSTS``, Docker Hub's by default).
* One check ends within ``BERTH_REGISTRY_LOGIN_TIMEOUT`` seconds in all, however slowly a server
  drips its answer (a watchdog shuts the sockets down at the deadline), and reads at most
  `MAX_ANSWER_BYTES` of a token service's answer; other answers are judged by their head alone.
* Proxies and ``.netrc`` from the environment are ignored: a proxy would connect on Berth's behalf
  to whatever it is asked, past every check above.

Who may ask, and how often, is `registry_login_test`'s part: the operator role in some tenant, a
per-user rate (`registry.throttles`), and an audit event.

The password is never logged and never part of a result: results are shown to users and logged.
"""

from __future__ import annotations

import enum
import ipaddress
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from requests.adapters import HTTPAdapter
from urllib3 import PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from dashboard.audit.services import audit_result, audited_action
from dashboard.core.actors import Actor, signed_in
from dashboard.core.errors import PermissionDenied
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Membership
from registry.dockerconfig import DockerConfigError, parse_server

logger = logging.getLogger(__name__)

DOCKER_HUB_API_HOST = "registry-1.docker.io"
MAX_ANSWER_BYTES = 256 * 1024
"""A token service's answer is a few KiB of JSON; anything much larger is not one."""
_READ_CHUNK = 16 * 1024
_USER_AGENT = "berth-registry-login"
_CHALLENGE_PARAM_RE = re.compile(r'([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))')
_NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")
_ALLOW_HINT = (
    "a platform admin can allow a registry inside the network with BERTH_REGISTRY_LOGIN_ALLOWED_HOSTS "
    "or BERTH_REGISTRY_LOGIN_ALLOWED_NETWORKS"
)


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


class PullOutcome(enum.StrEnum):
    OK = "ok"
    LOGIN_FAILED = "login_failed"
    NO_PULL_PERMISSION = "no_pull_permission"
    """The login works, but the account may not pull this repository."""
    CREDENTIALS_NEEDED = "credentials_needed"
    """No credential was given and the registry does not let anyone pull this repository."""
    MANIFEST_MISSING = "manifest_missing"
    TLS_ERROR = "tls_error"
    UNREACHABLE = "unreachable"
    UNEXPECTED_RESPONSE = "unexpected_response"


@dataclass(frozen=True)
class PullResult:
    outcome: PullOutcome
    message: str
    url: str
    """The manifest's URL."""
    username: str | None
    digest: str | None = None
    media_type: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is PullOutcome.OK


_LOGIN_TO_PULL = {
    LoginOutcome.WRONG_CREDENTIALS: PullOutcome.LOGIN_FAILED,
    LoginOutcome.UNREACHABLE: PullOutcome.UNREACHABLE,
    LoginOutcome.TLS_ERROR: PullOutcome.TLS_ERROR,
    LoginOutcome.UNEXPECTED_RESPONSE: PullOutcome.UNEXPECTED_RESPONSE,
}

MANIFEST_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
"""What a container runtime accepts when it resolves a tag; a registry answers 404 for a manifest it
holds only in a type not listed."""


class DestinationRefused(PermissionDenied):
    """Berth does not connect there; raised before any connection to it is made."""


# --- The service -----------------------------------------------------------------------------------


def may_test_logins(actor: Actor) -> bool:
    """Test login is for those who manage pull secrets: platform admins and tenant operators or admins."""
    if tenancy.is_platform_admin(actor):
        return True
    return (
        signed_in(actor) and Membership.objects.filter(user=actor, role__in=(tenancy.OPERATOR, tenancy.ADMIN)).exists()
    )


@audited_action("registry.login.test", target=("server",), params=("username",))
def registry_login_test(*, actor: Actor, server: str, username: str, password: str) -> LoginResult:
    """Try `username`/`password` against `server`'s registry (see the module docstring).

    Raises `PermissionDenied` for users without the operator role in any tenant, `DestinationRefused`
    when Berth must not connect where the check would lead, `DockerConfigError` for a server that
    cannot be tested; every answer of the registry is a `LoginResult`.
    """
    if not may_test_logins(actor):
        raise PermissionDenied(
            "Test login needs the operator role in a tenant: it makes Berth connect to the "
            "server you name. Ask one of your tenant's admins.",
            code="role_denied",
        )
    result = check_login(server, username, password)
    audit_result(outcome=result.outcome.value)
    return result


# --- Where Berth may connect -----------------------------------------------------------------------


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64), which is where it leads."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def non_public_kind(address: IPAddress) -> str | None:
    """What makes `address` not a public destination ("a loopback address", ...), or None if it is one."""
    embedded = _embedded_ipv4(address)
    if embedded is not None and (kind := non_public_kind(embedded)) is not None:
        return kind
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private or getattr(address, "is_site_local", False):
        return "a private address"
    if not address.is_global:
        return "an address that is not publicly routable"
    return None


def _host_key(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _parse_host_entry(entry: str, setting: str) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[v6]``, ``[v6]:port`` or a bare IPv6 address → (host, port or None)."""
    text = entry.strip()
    try:
        return str(ipaddress.ip_address(text.strip("[]"))), None
    except ValueError:
        pass
    host, colon, port = text.rpartition(":")
    if not colon or text.endswith("]"):
        host, port = text, ""
    if not host or (port and not port.isdigit()):
        raise ImproperlyConfigured(f"{setting}: {entry!r} is not host or host:port")
    return _host_key(host), int(port) if port else None


def _host_entries(setting: str) -> frozenset[tuple[str, int | None]]:
    return frozenset(_parse_host_entry(entry, setting) for entry in getattr(settings, setting))


# One answer of socket.getaddrinfo: family, type, protocol, canonical name, socket address.
_AddrInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]


@dataclass(frozen=True)
class DestinationPolicy:
    allowed_hosts: frozenset[tuple[str, int | None]] = frozenset()
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    realm_hosts: frozenset[tuple[str, int | None]] = frozenset()

    @classmethod
    def from_settings(cls) -> DestinationPolicy:
        try:
            networks = tuple(
                ipaddress.ip_network(entry.strip(), strict=False)
                for entry in settings.BERTH_REGISTRY_LOGIN_ALLOWED_NETWORKS
            )
        except ValueError as exc:
            raise ImproperlyConfigured(f"BERTH_REGISTRY_LOGIN_ALLOWED_NETWORKS: {exc}") from None
        return cls(
            allowed_hosts=_host_entries("BERTH_REGISTRY_LOGIN_ALLOWED_HOSTS"),
            allowed_networks=networks,
            realm_hosts=_host_entries("BERTH_REGISTRY_TOKEN_REALM_HOSTS"),
        )

    @staticmethod
    def _listed(entries: frozenset[tuple[str, int | None]], host: str, port: int) -> bool:
        key = _host_key(host)
        return (key, None) in entries or (key, port) in entries

    def allows_host(self, host: str, port: int) -> bool:
        return self._listed(self.allowed_hosts, host, port)

    def allows_realm_host(self, host: str, port: int) -> bool:
        return self._listed(self.realm_hosts, host, port) or self.allows_host(host, port)

    def refusal(self, address: IPAddress) -> str | None:
        if any(address in network for network in self.allowed_networks if network.version == address.version):
            return None
        return non_public_kind(address)

    def addresses(self, host: str, port: int) -> Sequence[_AddrInfo]:
        """`getaddrinfo` answers for `host`, every one allowed; raises `DestinationRefused` otherwise."""
        key = _host_key(host)
        answers: Sequence[_AddrInfo] = socket.getaddrinfo(key, port, type=socket.SOCK_STREAM)
        if self.allows_host(key, port):
            return answers
        literal = _is_ip_literal(key)
        for answer in answers:
            kind = self.refusal(ipaddress.ip_address(answer[4][0].partition("%")[0]))
            if kind is not None:
                shown = f"[{key}]:{port}" if ":" in key else f"{key}:{port}"
                where = "is" if literal else "resolves to"
                raise DestinationRefused(
                    f"Test login refused: {shown} {where} {kind}, and Berth only connects "
                    f"to public addresses; {_ALLOW_HINT}."
                )
        return answers


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# --- Connections that keep to the policy and the deadline ---------------------------------------------


class _Guard:
    """The policy and the deadline of one check, for every connection it opens.

    A socket read waits at most its timeout, but a server that drips one byte per timeout keeps it
    going for ever; so a timer shuts every socket of the check down at the deadline, which ends any
    read in progress (TLS handshake, head or body). It holds a duplicate of each socket, because
    TLS takes the original over.
    """

    def __init__(self, policy: DestinationPolicy, timeout: float) -> None:
        self.policy = policy
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(timeout, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Guard:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def track(self, sock: socket.socket) -> None:
        duplicate = sock.dup()
        with self._lock:
            if not self.expired:
                self._sockets.append(duplicate)
                return
        _shut(duplicate)
        duplicate.close()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by its owner


# A mixin for urllib3's connections: the type checker sees its base, at run time it is a plain class.
if TYPE_CHECKING:
    _ConnectionBase = HTTPConnection
else:
    _ConnectionBase = object


class _GuardedConnectionMixin(_ConnectionBase):
    """urllib3's connection, but resolving through the guard's policy and connecting to exactly
    the addresses it allowed; the host name stays the connection's for Host, SNI and verification."""

    def __init__(self, *args: Any, guard: _Guard, **kwargs: Any) -> None:
        self._guard = guard
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        try:
            answers = self._guard.policy.addresses(self._dns_host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        timeout = self.timeout if isinstance(self.timeout, (int, float)) else self._guard.remaining()
        error: OSError | None = None
        for family, kind, proto, _name, address in answers:
            sock = socket.socket(family, kind, proto)
            try:
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                sock.settimeout(timeout)
                sock.connect(address)
            except TimeoutError as exc:
                sock.close()
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from exc
            except OSError as exc:
                sock.close()
                error = exc
                continue
            self._guard.track(sock)
            return sock
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}") from error


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedPoolManager(PoolManager):
    def __init__(self, *args: Any, guard: _Guard, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}
        self._guard = guard

    def _new_pool(
        self, scheme: str, host: str, port: int, request_context: dict[str, Any] | None = None
    ) -> HTTPConnectionPool:
        pool = super()._new_pool(scheme, host, port, request_context)
        pool.conn_kw["guard"] = self._guard
        return pool


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, guard: _Guard) -> None:
        self._guard = guard
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        self.poolmanager = _GuardedPoolManager(
            num_pools=connections, maxsize=maxsize, block=block, guard=self._guard, **pool_kwargs
        )


def _guarded_session(guard: _Guard) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    adapter = _GuardedAdapter(guard)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# --- The handshake ---------------------------------------------------------------------------------


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


def runtime_server(server: str) -> str:
    """`server` (a pull secret's key, an image's registry) as a container runtime reaches it: plain HTTP
    for a loopback registry (Docker's default insecure registries are localhost and 127.0.0.0/8), TLS
    for any other; a scheme spelt out stays."""
    if server.strip().lower().startswith(("http://", "https://")):
        return server
    return f"http://{server.strip()}" if _is_loopback(parse_server(server).host) else server


def check_login(server: str, username: str, password: str, *, timeout: float | None = None) -> LoginResult:
    """Try `username`/`password` against `server`'s registry API, within `timeout` seconds in all
    (``BERTH_REGISTRY_LOGIN_TIMEOUT`` when not given), keeping to the destination policy.

    Raises `DockerConfigError` when `server` itself is not usable and `DestinationRefused` when the
    check would lead Berth somewhere it does not connect; every network answer or failure is a
    `LoginResult`.
    """
    endpoint = registry_endpoint(server)
    timeout = float(settings.BERTH_REGISTRY_LOGIN_TIMEOUT if timeout is None else timeout)
    with _Guard(DestinationPolicy.from_settings(), timeout) as guard, _guarded_session(guard) as session:
        handshake = _Handshake(endpoint=endpoint, username=username, password=password, guard=guard)
        try:
            result = handshake.run(session)
        except _Stop as stop:
            result = stop.result
        except DestinationRefused as refused:
            logger.info("registry login check at %s as %s: refused (%s)", endpoint, username, refused.message)
            raise
    logger.info("registry login check at %s as %s: %s", endpoint, username, result.outcome.value)
    return result


def check_pull(
    server: str,
    repository: str,
    reference: str,
    *,
    username: str | None = None,
    password: str | None = None,
    timeout: float | None = None,
) -> PullResult:
    """May `username` (anonymously when None) pull `repository` at `reference` (tag or digest) from
    `server`? A manifest ``HEAD`` as a container runtime resolves an image, after the login
    handshake of `check_login`, under the same destination policy and deadline. Tells apart: the
    login fails; it works but may not pull this repository; the tag or manifest is missing; TLS or
    network errors. Raises as `check_login` does."""
    endpoint = registry_endpoint(server)
    url = f"{endpoint}{repository}/manifests/{reference}"
    timeout = float(settings.BERTH_REGISTRY_LOGIN_TIMEOUT if timeout is None else timeout)
    anonymous = username is None
    with _Guard(DestinationPolicy.from_settings(), timeout) as guard, _guarded_session(guard) as session:
        handshake = _Handshake(endpoint=endpoint, username=username or "", password=password or "", guard=guard)
        try:
            result = handshake.pull(session, repository, url, anonymous=anonymous)
        except _Stop as stop:
            result = _pull_failure(stop.result, url, username, anonymous=anonymous)
    logger.info("registry pull check of %s as %s: %s", url, username or "anonymous", result.outcome.value)
    return result


def _pull_failure(login: LoginResult, url: str, username: str | None, *, anonymous: bool) -> PullResult:
    if anonymous and login.outcome is LoginOutcome.WRONG_CREDENTIALS:
        return PullResult(
            PullOutcome.CREDENTIALS_NEEDED,
            f"{urlsplit(url).netloc} gives no anonymous access; no pull secret holds a login for it",
            url,
            None,
        )
    return PullResult(_LOGIN_TO_PULL[login.outcome], login.message, url, username)


@dataclass
class _Handshake:
    endpoint: str
    username: str
    password: str = field(repr=False)
    guard: _Guard
    auth_scheme: str | None = None
    challenge: dict[str, str] = field(default_factory=dict)

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
            self.auth_scheme, self.challenge = "bearer", params
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

    def pull(self, session: requests.Session, repository: str, url: str, *, anonymous: bool) -> PullResult:
        username = None if anonymous else self.username
        scope = {"scope": f"repository:{repository}:pull"}
        kwargs: dict[str, Any] = {}
        if not anonymous:
            login = self.run(session)
            if not login.ok:
                return _pull_failure(login, url, username, anonymous=False)
            if self.auth_scheme == "basic":
                kwargs["auth"] = self._basic_auth()
            elif self.auth_scheme == "bearer":
                kwargs["headers"] = {"Authorization": f"Bearer {self._token(session, {**self.challenge, **scope})}"}
        response = self._head(session, url, kwargs)
        if response.status_code == 401 and "headers" not in kwargs:
            # Asked without a token, and the registry wants one for this repository (an anonymous pull,
            # or a registry whose /v2/ is open to all): fetch it as the runtime would, and ask again.
            scheme, params = _parse_challenge(response.headers.get("WWW-Authenticate", ""))
            if scheme == "bearer":
                self.auth_scheme = "bearer"
                token = self._token(session, {**params, **scope}, anonymous=anonymous)
                response = self._head(session, url, {"headers": {"Authorization": f"Bearer {token}"}})
        host, reference = self._host(url), url.rsplit("/", 1)[1]
        if response.status_code == 200:
            return PullResult(
                PullOutcome.OK,
                f"{host} lets {username or 'anyone'} pull {repository}:{reference}",
                url,
                username,
                digest=response.headers.get("Docker-Content-Digest"),
                media_type=response.headers.get("Content-Type"),
            )
        if response.status_code in (401, 403):
            if anonymous:
                return PullResult(
                    PullOutcome.CREDENTIALS_NEEDED,
                    f"{host} does not let anyone pull {repository} without a login, and no pull secret holds "
                    "a login for it",
                    url,
                    None,
                )
            return PullResult(
                PullOutcome.NO_PULL_PERMISSION,
                f"{username} logs in to {host}, but may not pull {repository} (HTTP {response.status_code}): "
                "grant the account pull access to this repository or project",
                url,
                username,
            )
        if response.status_code == 404:
            return PullResult(
                PullOutcome.MANIFEST_MISSING,
                f"{host} has no manifest {reference} in {repository}: the tag or digest does not exist "
                "(or the repository does not)",
                url,
                username,
            )
        return _pull_failure(self._unexpected(response, url), url, username, anonymous=anonymous)

    def _head(self, session: requests.Session, url: str, kwargs: dict[str, Any]) -> requests.Response:
        headers = {"Accept": ", ".join(MANIFEST_MEDIA_TYPES), **kwargs.get("headers", {})}
        return self._get(session, url, method="HEAD", **{**kwargs, "headers": headers})

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

    def _token(self, session: requests.Session, challenge: dict[str, str], *, anonymous: bool = False) -> str:
        realm = challenge.get("realm", "")
        parts = urlsplit(realm)
        registry = self._host(self.endpoint)
        try:
            realm_port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            realm_port = None
        if parts.scheme not in ("http", "https") or not parts.hostname or realm_port is None:
            raise _Stop(
                self._result(
                    LoginOutcome.UNEXPECTED_RESPONSE, f"{registry} sent a Bearer challenge without a usable token realm"
                )
            )
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise _Stop(
                self._result(
                    LoginOutcome.UNEXPECTED_RESPONSE,
                    f"{registry} sends logins to a token service over plain "
                    f"http ({parts.netloc}); Berth does not send passwords unencrypted",
                )
            )
        if _host_key(parts.hostname) != _host_key(
            urlsplit(self.endpoint).hostname or ""
        ) and not self.guard.policy.allows_realm_host(parts.hostname, realm_port):
            raise DestinationRefused(
                f"Test login refused: {registry} sends logins to a token service on another host "
                f"({parts.netloc}), and Berth sends them only to the registry's own host or to token service "
                "hosts a platform admin listed in BERTH_REGISTRY_TOKEN_REALM_HOSTS."
            )
        params = {} if anonymous else {"account": self.username}
        params.update({name: challenge[name] for name in ("service", "scope") if challenge.get(name)})
        auth: dict[str, Any] = {} if anonymous else {"auth": self._basic_auth()}
        response = self._get(session, realm, body=True, params=params, **auth)
        if response.status_code != 200:
            response.close()
            if response.status_code in (401, 403):
                raise _Stop(
                    self._result(
                        LoginOutcome.WRONG_CREDENTIALS,
                        f"the token service of {registry} ({parts.netloc}) refused "
                        f"the login of {self.username}: wrong username or password",
                    )
                )
            raise _Stop(self._unexpected(response, realm))
        try:
            body: Any = json.loads(self._body(response, realm))
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

    def _get(
        self, session: requests.Session, url: str, *, body: bool = False, method: str = "GET", **kwargs: Any
    ) -> requests.Response:
        """The answer's head. Only a token service's body is read, by `_body` when `body` is true and only up
        to a limit; every other answer is judged by its head, and its connection closed unread."""
        remaining = self.guard.remaining()
        host = self._host(url)
        if remaining <= 0 or self.guard.expired:
            raise self._too_slow(host)
        headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity", **kwargs.pop("headers", {})}
        try:
            response = session.request(
                method, url, headers=headers, timeout=remaining, allow_redirects=False, stream=True, **kwargs
            )
        except requests.exceptions.RequestException as exc:
            raise self._failure(exc, host) from None
        if self.guard.expired:
            # A head cut off by the watchdog can look complete: the end of the stream ends it.
            response.close()
            raise self._too_slow(host)
        if not body:
            response.close()
        return response

    def _body(self, response: requests.Response, url: str) -> bytes:
        host = self._host(url)
        body = bytearray()
        try:
            for chunk in response.raw.stream(_READ_CHUNK, decode_content=False):
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    raise _Stop(
                        self._result(
                            LoginOutcome.UNEXPECTED_RESPONSE,
                            f"the token service at {host} answered with more than "
                            f"{MAX_ANSWER_BYTES // 1024} KiB, larger than any token; it is "
                            "not a token service",
                        )
                    )
        except (Urllib3Error, OSError) as exc:
            raise self._failure(exc, host) from None
        finally:
            response.close()
        if self.guard.expired:
            raise self._too_slow(host)
        return bytes(body)

    def _failure(self, exc: BaseException, host: str) -> _Stop:
        if self.guard.expired:
            return self._too_slow(host)
        if isinstance(exc, requests.exceptions.SSLError):
            return _Stop(self._result(LoginOutcome.TLS_ERROR, f"TLS with {host} failed: {_tls_reason(exc)}"))
        if isinstance(exc, (requests.exceptions.Timeout, Urllib3Timeout)):
            return _Stop(
                self._result(LoginOutcome.UNREACHABLE, f"{host} did not answer within {self.guard.timeout:g} s")
            )
        if isinstance(exc, (requests.exceptions.ConnectionError, OSError)):
            return _Stop(
                self._result(LoginOutcome.UNREACHABLE, f"could not connect to {host}: {_connection_reason(exc)}")
            )
        return _Stop(self._result(LoginOutcome.UNEXPECTED_RESPONSE, f"request to {host} failed: {type(exc).__name__}"))

    def _too_slow(self, host: str) -> _Stop:
        return _Stop(
            self._result(LoginOutcome.UNREACHABLE, f"{host} did not finish answering within {self.guard.timeout:g} s")
        )

    def _unexpected(self, response: requests.Response, url: str) -> LoginResult:
        host = self._host(url)
        if response.is_redirect:
            location = response.headers.get("Location", "")
            message = (
                f"{host} redirects {urlsplit(url).path} to {location}; Berth does not follow redirects: "
                "give the registry's own address as the server"
            )
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
