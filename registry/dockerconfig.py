"""Registry credentials in the shapes Kubernetes image-pull Secrets hold them.

A ``kubernetes.io/dockerconfigjson`` Secret keeps, under ``.dockerconfigjson``, the document of
``~/.docker/config.json``: ``{"auths": {server: entry}}``. The legacy ``kubernetes.io/dockercfg``
type keeps the bare ``{server: entry}`` map under ``.dockercfg``. An entry has ``auth`` =
base64("username:password") and/or ``username`` and ``password`` (the kubelet takes ``auth`` when
both are there) and an optional ``email``.

Berth writes every server under one canonical key (see `parse_server`) so that two spellings of
one registry cannot sit side by side in a Secret with different passwords.

Pure Python (no Django, no Kubernetes client), so the logic is testable on its own. A password
never reaches a repr, a message or an error: users paste these into forms and logs get shared.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from dashboard.core.errors import InvalidInput

DOCKER_HUB = "https://index.docker.io/v1/"
# Docker Hub's names; the kubelet itself only knows `docker.io` and `index.docker.io`, and Docker's
# CLI files Hub credentials under DOCKER_HUB, so that is the key Berth writes.
DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})

# Top-level keys of a Docker CLI config.json that are settings, not registries: a document with
# any of them is a config.json even when it has no "auths".
_CLI_SETTINGS = frozenset(
    {
        "credsStore",
        "credHelpers",
        "HttpHeaders",
        "currentContext",
        "proxies",
        "plugins",
        "psFormat",
        "imagesFormat",
        "detachKeys",
        "experimental",
        "aliases",
        "features",
        "stackOrchestrator",
    }
)

# The largest config document Berth reads from a user (pasted, uploaded or sent to the API).
CONFIG_DOCUMENT_LIMIT = 256 * 1024

_LABEL = r"[a-z0-9*](?:[a-z0-9*-]*[a-z0-9*])?"
_HOST_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_IPV6_RE = re.compile(r"\[[0-9a-f:.]+\]")
_PORT_RE = re.compile(r"[0-9]{1,5}")
# One path component of a repository name, as in the distribution reference grammar.
_PATH_COMPONENT_RE = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


class DockerConfigError(InvalidInput):
    """Invalid registry credentials or config document.

    `field` names the offending part (``server``, ``auths["registry.example.com"].auth``, ...);
    `position` is the (line, column) of a JSON syntax error.
    """

    default_code = "invalid_docker_config"
    component = "registry"

    def __init__(self, message: str, *, field: str | None = None, position: tuple[int, int] | None = None) -> None:
        extra: dict[str, Any] = {}
        if field:
            extra["field"] = field
        if position:
            extra["line"], extra["column"] = position
        super().__init__(message, extra=extra)
        self.field = field
        self.position = position


class ConfigFormat(enum.Enum):
    """The two Secret types the kubelet reads pull credentials from."""

    DOCKERCONFIGJSON = ("kubernetes.io/dockerconfigjson", ".dockerconfigjson")
    DOCKERCFG = ("kubernetes.io/dockercfg", ".dockercfg")

    def __init__(self, secret_type: str, data_key: str) -> None:
        self.secret_type = secret_type
        self.data_key = data_key

    @classmethod
    def for_secret_type(cls, secret_type: str) -> ConfigFormat:
        for member in cls:
            if member.secret_type == secret_type:
                return member
        allowed = " or ".join(member.secret_type for member in cls)
        raise DockerConfigError(
            f"secret type {secret_type!r} holds no registry credentials; expected {allowed}", field="type"
        )


@dataclass(frozen=True)
class ServerAddress:
    """A registry server as a key: host (lower case, ``*`` may stand for one label), port, path.

    `path` is empty or starts with ``/``; a key with a path only covers repositories under it.
    """

    host: str
    port: int | None
    path: str

    @property
    def is_docker_hub(self) -> bool:
        return self.port is None and self.host in DOCKER_HUB_HOSTS

    @property
    def key(self) -> str:
        if self.is_docker_hub:
            # The kubelet falls back to the `index.docker.io` key only for whole-Hub credentials;
            # a Hub key with a path must be spelt `docker.io/...` to match anything.
            return DOCKER_HUB if not self.path else f"docker.io{self.path}"
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.host}{port}{self.path}"


def parse_server(server: str, *, field: str = "server") -> ServerAddress:
    """Validate a registry server as typed by a user or found as a config.json key.

    Empty means Docker Hub, as with ``kubectl create secret docker-registry``. An ``http://`` or
    ``https://`` scheme is dropped and a leading ``/v1/`` or ``/v2/`` in the path is ignored, as the
    kubelet does when it indexes keys. Any other scheme, user info, query or fragment is refused.
    """
    value = server.strip()
    if not value:
        return ServerAddress(host="index.docker.io", port=None, path="")
    # A server with user info may hold a password ("user:password@host"): such a server is not quoted back.
    shown = "" if "@" in value else f" {value!r}"
    if re.search(r"\s", value) or _CONTROL_RE.search(value):
        raise DockerConfigError(
            f"server{shown} contains whitespace; give host[:port][/path], e.g. registry.example.com:5000/team",
            field=field,
        )
    lowered = value.lower()
    for scheme in ("https://", "http://"):
        if lowered.startswith(scheme):
            value = value[len(scheme) :]
            break
    else:
        if "://" in value:
            raise DockerConfigError(f"server{shown}: only http:// or https:// may precede the host", field=field)
    if any(c in value for c in "@?#"):
        raise DockerConfigError(
            f"server{shown}: user names, passwords, queries and fragments are not allowed; "
            "give host[:port][/path] (the login goes in its own fields)",
            field=field,
        )
    hostport, slash, path = value.partition("/")
    host, port = _split_host_port(hostport.lower(), server.strip(), field)
    return ServerAddress(host=host, port=port, path=_clean_path(slash + path, server.strip(), field))


def normalise_server(server: str) -> str:
    """The canonical key for `server`: equal for every spelling of one registry."""
    return parse_server(server).key


def _split_host_port(hostport: str, shown: str, field: str) -> tuple[str, int | None]:
    if hostport.startswith("["):
        host, _, rest = hostport.partition("]")
        host += "]"
        if not _IPV6_RE.fullmatch(host) or (rest and not rest.startswith(":")):
            raise DockerConfigError(f"server {shown!r}: malformed IPv6 address", field=field)
        port_text = rest[1:] if rest else None
    else:
        host, colon, port_text_or_empty = hostport.partition(":")
        port_text = port_text_or_empty if colon else None
        if not host or not _HOST_RE.fullmatch(host):
            raise DockerConfigError(
                f"server {shown!r}: the host may hold letters, digits, '-' and '.' "
                "(a '*' stands for one label, as in *.example.com)",
                field=field,
            )
    if port_text is None:
        return host, None
    if not _PORT_RE.fullmatch(port_text) or not 1 <= int(port_text) <= 65535:
        raise DockerConfigError(f"server {shown!r}: the port must be a number from 1 to 65535", field=field)
    return host, int(port_text)


def _clean_path(path: str, shown: str, field: str) -> str:
    if path.startswith(("/v1/", "/v2/")):
        path = path[3:]
    if path in ("", "/"):
        return ""
    components = path[1:].split("/")
    if components[-1] == "":
        components.pop()  # a trailing slash is kept: the kubelet compares paths as strings
    for component in components:
        if component != component.lower():
            raise DockerConfigError(f"server {shown!r}: repository paths are lower case", field=field)
        if not _PATH_COMPONENT_RE.fullmatch(component):
            raise DockerConfigError(
                f"server {shown!r}: path component {component!r} must be lower-case letters and digits, "
                "separated by '.', '_', '__' or '-'",
                field=field,
            )
    return path


@dataclass(frozen=True)
class Credential:
    """One registry login; `server` is normalised on construction (see `normalise_server`)."""

    server: str
    username: str
    password: str = field(repr=False)
    email: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "server", normalise_server(self.server))
        if not self.username:
            raise DockerConfigError("username must not be empty", field="username")
        if ":" in self.username:
            raise DockerConfigError(
                'username must not contain ":", which separates it from the password in the "auth" field',
                field="username",
            )
        if _CONTROL_RE.search(self.username):
            raise DockerConfigError("username must not contain line breaks or control characters", field="username")
        if not self.password:
            raise DockerConfigError("password must not be empty", field="password")
        if _CONTROL_RE.search(self.password):
            raise DockerConfigError(
                "password must not contain line breaks or control characters (was a trailing newline pasted with it?)",
                field="password",
            )
        email = self.email.strip() if self.email else None
        if email and (re.search(r"\s", email) or _CONTROL_RE.search(email)):
            raise DockerConfigError("email must not contain spaces or control characters", field="email")
        object.__setattr__(self, "email", email or None)

    @property
    def auth(self) -> str:
        return base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")

    def entry(self) -> dict[str, str]:
        """The config.json entry for this login."""
        entry = {"username": self.username, "password": self.password, "auth": self.auth}
        if self.email:
            entry["email"] = self.email
        return entry


@dataclass(frozen=True)
class MergeResult:
    credentials: tuple[Credential, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class ParsedConfig:
    format: ConfigFormat
    credentials: tuple[Credential, ...]
    notes: tuple[str, ...]
    """What the user should know: entries skipped, replaced, or read differently than written."""


@dataclass(frozen=True)
class DisplayEntry:
    """An entry of a Secret as the UI lists it: everything but the password."""

    key: str
    """The key as written in the Secret."""
    server: str
    """`key` normalised, or `key` itself when it is not a valid server."""
    username: str
    email: str | None
    has_password: bool
    problem: str | None = None
    """Why the kubelet (or Berth) cannot use this entry as it stands."""


def merge_credentials(*groups: Iterable[Credential]) -> MergeResult:
    """Combine logins; a later one for the same normalised server replaces an earlier one."""
    merged: dict[str, Credential] = {}
    notes: list[str] = []
    for group in groups:
        for credential in group:
            earlier = merged.pop(credential.server, None)
            if earlier is not None:
                notes.append(
                    f"{credential.server}: a later entry (user {credential.username}) replaces an "
                    f"earlier one for the same registry (user {earlier.username})"
                )
            merged[credential.server] = credential
    return MergeResult(tuple(merged.values()), tuple(notes))


def logins_for_secret(parsed: ParsedConfig | None, typed: Iterable[Credential]) -> MergeResult:
    """The logins a new secret gets, as the wizard and the API both take them: a pasted or uploaded
    config.json's first, then the typed ones, which win for the same registry; with every note the
    operator should read. DockerConfigError (field `registries`) when there is no login at all."""
    merged = merge_credentials(parsed.credentials if parsed else (), typed)
    if not merged.credentials:
        raise DockerConfigError(
            "Give at least one registry login, or paste or upload a config.json.", field="registries"
        )
    return MergeResult(merged.credentials, (*(parsed.notes if parsed else ()), *merged.notes))


def build_config(
    credentials: Iterable[Credential], *, config_format: ConfigFormat = ConfigFormat.DOCKERCONFIGJSON
) -> bytes:
    """A Secret data value (compact JSON, sorted keys) holding `credentials`, one per server."""
    entries: dict[str, dict[str, str]] = {}
    for credential in credentials:
        if credential.server in entries:
            raise DockerConfigError(
                f"{credential.server} is given twice; a secret holds one login per registry", field="server"
            )
        entries[credential.server] = credential.entry()
    return _dump({"auths": entries} if config_format is ConfigFormat.DOCKERCONFIGJSON else entries)


def parse_config(document: str | bytes) -> ParsedConfig:
    """Read an uploaded or pasted config.json (with ``auths``) or legacy .dockercfg (a bare map).

    Entries without credentials (kept by a Docker credential store, or holding only an identity
    token) are skipped with a note; a document left with no credentials at all is refused.
    """
    if len(document) > CONFIG_DOCUMENT_LIMIT:
        raise DockerConfigError(
            f"the document is larger than {CONFIG_DOCUMENT_LIMIT // 1024} KiB; a docker config.json is a few KiB",
            field="document",
        )
    top = _load_json(document, keep_duplicates=True)
    if not isinstance(top, dict):
        raise DockerConfigError("a docker config must be a JSON object", field="document")
    if "auths" in top or _CLI_SETTINGS & top.keys():
        config_format = ConfigFormat.DOCKERCONFIGJSON
        auths = top.get("auths", _object_with_pairs([]))
        if not isinstance(auths, dict):
            raise DockerConfigError('"auths" must be an object mapping registry servers to logins', field="auths")
        prefix = "auths"
    else:
        config_format, auths, prefix = ConfigFormat.DOCKERCFG, top, ""
    helpers = _credential_helpers(top)

    credentials: list[Credential] = []
    notes: list[str] = []
    identity_token_only = False
    # Every object _load_json(keep_duplicates=True) builds is a _PairsDict.
    for key, value in cast(_PairsDict, auths).pairs:
        where = f'{prefix}["{key}"]'
        if not key.strip():
            raise DockerConfigError(f"{where}: the registry server is empty", field=where)
        username, password, email = _entry_fields(value, where, notes)
        if username is None:
            if isinstance(value, dict) and (value.get("identitytoken") or value.get("registrytoken")):
                identity_token_only = True
                notes.append(f"{where} holds only an identity token, which the kubelet cannot use; skipped")
            elif helpers:
                notes.append(f"{where} holds no credentials (Docker keeps them in its credential store); skipped")
            else:
                notes.append(f"{where} holds no credentials; skipped")
            continue
        # _entry_fields answers a password with every username.
        credentials.append(_credential(key, username, cast(str, password), email, where))

    if not credentials:
        if helpers:
            raise DockerConfigError(
                f"this config.json keeps its passwords in a credential helper ({helpers}), so the file holds "
                'no credentials. Remove "credsStore"/"credHelpers" from ~/.docker/config.json, run '
                "`docker login` again so the login is written into the file, and upload it again; "
                "or enter the server, username and password here.",
                field="credsStore",
            )
        if identity_token_only:
            raise DockerConfigError(
                "this config holds only identity tokens, which the kubelet cannot use; "
                "log in with a username and password (or an access token as password)",
                field=prefix or "document",
            )
        raise DockerConfigError(
            'no credentials found: expected registry entries with "auth" or with "username" and "password"',
            field=prefix or "document",
        )
    merged = merge_credentials(credentials)
    return ParsedConfig(config_format, merged.credentials, tuple(notes) + merged.notes)


def decode_secret(secret_type: str, payload: bytes) -> tuple[DisplayEntry, ...]:
    """The entries of a Secret's data value (already base64-decoded), without passwords.

    A malformed entry is listed with its `problem` rather than failing the whole Secret; a value
    that is not a JSON object of the right shape raises `DockerConfigError`.
    """
    config_format = ConfigFormat.for_secret_type(secret_type)
    _, entries = _load_secret(config_format, payload)
    prefix = "auths" if config_format is ConfigFormat.DOCKERCONFIGJSON else ""
    shown: list[DisplayEntry] = []
    for key, value in entries.items():
        where = f'{prefix}["{key}"]'
        raw = value if isinstance(value, dict) else {}
        raw_username = raw.get("username")
        username = raw_username if isinstance(raw_username, str) else ""
        email = raw.get("email") if isinstance(raw.get("email"), str) else None
        has_password = isinstance(raw.get("password"), str) and bool(raw.get("password"))
        problem: str | None = None
        server = key
        try:
            found_username, found_password, email = _entry_fields(value, where, [])
            if found_username is None:
                problem = f"{where} holds no username and password"
            else:
                username, has_password = found_username, bool(found_password)
                server = _credential(key, found_username, cast(str, found_password), email, where).server
        except DockerConfigError as exc:
            problem = exc.message
        shown.append(
            DisplayEntry(
                key=key,
                server=server,
                username=username,
                email=email or None,
                has_password=has_password,
                problem=problem,
            )
        )
    return tuple(shown)


def replace_password(secret_type: str, payload: bytes, *, server: str, password: str) -> bytes:
    """New data value with `password` for `server`'s entries; usernames, emails and others kept."""
    config_format = ConfigFormat.for_secret_type(secret_type)
    document, entries = _load_secret(config_format, payload)
    for key in _keys_for(entries, server):
        value = entries[key]
        username = None
        try:
            username, _, _ = _entry_fields(value, key, [])
        except DockerConfigError:
            # The old auth may be broken; a plain username field still says whose login it is.
            pass
        if username is None and isinstance(value, dict) and isinstance(value.get("username"), str):
            username = value["username"]
        if not username:
            raise DockerConfigError(
                f"the entry {key} has no username to go with a new password; remove it and add the login again",
                field="server",
            )
        credential = _credential(key, username, password, None, key)
        value.update(username=credential.username, password=credential.password, auth=credential.auth)
    return _dump(document)


def add_entry(secret_type: str, payload: bytes, credential: Credential) -> bytes:
    """New data value with `credential` added; an existing login for that server is an error."""
    config_format = ConfigFormat.for_secret_type(secret_type)
    document, entries = _load_secret(config_format, payload)
    if _matching_keys(entries, credential.server):
        raise DockerConfigError(
            f"the secret already holds a login for {credential.server}; replace its password or remove it first",
            field="server",
        )
    entries[credential.server] = credential.entry()
    return _dump(document)


def remove_entry(secret_type: str, payload: bytes, *, server: str) -> bytes:
    """New data value without the entries for `server` (every spelling of it)."""
    config_format = ConfigFormat.for_secret_type(secret_type)
    document, entries = _load_secret(config_format, payload)
    for key in _keys_for(entries, server):
        del entries[key]
    return _dump(document)


class _PairsDict(dict):
    """A JSON object that also remembers repeated keys, which `json` would silently collapse."""

    pairs: list[tuple[str, Any]]


def _object_with_pairs(pairs: list[tuple[str, Any]]) -> _PairsDict:
    obj = _PairsDict(pairs)
    obj.pairs = pairs
    return obj


def _load_json(document: str | bytes, *, keep_duplicates: bool) -> Any:
    if isinstance(document, bytes):
        try:
            document = document.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DockerConfigError(f"the document is not UTF-8 text (byte {exc.start})", field="document") from None
    try:
        return json.loads(document, object_pairs_hook=_object_with_pairs if keep_duplicates else None)
    except json.JSONDecodeError as exc:
        raise DockerConfigError(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            field="document",
            position=(exc.lineno, exc.colno),
        ) from None
    except RecursionError:
        # json recurses once per level and gives up near the interpreter's recursion limit.
        raise DockerConfigError(
            "the document is nested too deeply to be a docker config (which nests three levels)", field="document"
        ) from None


def _load_secret(config_format: ConfigFormat, payload: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    document = _load_json(payload, keep_duplicates=False)
    if not isinstance(document, dict):
        raise DockerConfigError(f"{config_format.data_key} must hold a JSON object", field=config_format.data_key)
    if config_format is ConfigFormat.DOCKERCFG:
        return document, document
    auths = document.setdefault("auths", {})
    if not isinstance(auths, dict):
        raise DockerConfigError('"auths" must be an object mapping registry servers to logins', field="auths")
    return document, auths


def _dump(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8")


def _credential_helpers(top: Mapping[str, Any]) -> str:
    parts = []
    if top.get("credsStore"):
        parts.append(f'"credsStore": {json.dumps(top["credsStore"])}')
    if isinstance(top.get("credHelpers"), dict) and top["credHelpers"]:
        parts.append(f'"credHelpers" for {", ".join(sorted(top["credHelpers"]))}')
    return "; ".join(parts)


def _entry_fields(value: Any, where: str, notes: list[str]) -> tuple[str | None, str | None, str | None]:
    """(username, password, email) of one entry; (None, None, email) when it holds no login."""
    if not isinstance(value, dict):
        raise DockerConfigError(f'{where} must be an object with "auth" or "username" and "password"', field=where)
    for name in ("auth", "username", "password", "email"):
        if value.get(name) is not None and not isinstance(value[name], str):
            raise DockerConfigError(f"{where}.{name} must be a string", field=f"{where}.{name}")
    email = value.get("email") or None
    username: str | None
    password: str | None
    auth = value.get("auth")
    if auth:
        try:
            decoded = base64.b64decode(auth, validate=True).decode("utf-8")
        except binascii.Error:
            raise DockerConfigError(
                f'{where}.auth is not valid base64 of "username:password"', field=f"{where}.auth"
            ) from None
        except UnicodeDecodeError:
            raise DockerConfigError(
                f"{where}.auth decodes to bytes that are not UTF-8 text", field=f"{where}.auth"
            ) from None
        username, colon, password = decoded.partition(":")
        if not colon:
            raise DockerConfigError(
                f'{where}.auth decodes to text without ":"; it must be base64 of "username:password"',
                field=f"{where}.auth",
            )
        if (value.get("username") or value.get("password")) and (value.get("username"), value.get("password")) != (
            username,
            password,
        ):
            notes.append(
                f'{where} has both "auth" and a different username/password; "auth" is used, as the kubelet does'
            )
        return username, password, email
    username, password = value.get("username") or None, value.get("password") or None
    if username is None and password is None:
        return None, None, email
    if password is None:
        raise DockerConfigError(f"{where} has a username but no password", field=f"{where}.password")
    if username is None:
        raise DockerConfigError(f"{where} has a password but no username", field=f"{where}.username")
    return username, password, email


def _credential(server: str, username: str, password: str, email: str | None, where: str) -> Credential:
    try:
        return Credential(server=server, username=username, password=password, email=email)
    except DockerConfigError as exc:
        # Credential's messages already name the server when the server is what is wrong.
        message = exc.message if exc.field == "server" else f"{where}: {exc.message}"
        raise DockerConfigError(message, field=f"{where}.{exc.field}" if exc.field != "server" else where) from None


def _matching_keys(entries: Mapping[str, Any], server: str) -> list[str]:
    """Keys naming `server` in any spelling; a key that is no valid server matches only itself."""
    try:
        wanted = normalise_server(server)
    except DockerConfigError:
        return [key for key in entries if key == server]
    found = []
    for key in entries:
        try:
            if normalise_server(key) == wanted:
                found.append(key)
        except DockerConfigError:
            continue
    return found


def _keys_for(entries: Mapping[str, Any], server: str) -> list[str]:
    keys = _matching_keys(entries, server)
    if not keys:
        held = ", ".join(sorted(entries)) or "nothing"
        raise DockerConfigError(
            f"the secret holds no login for {server or DOCKER_HUB} (it holds {held})", field="server"
        )
    return keys


def secret_logins(secret_type: str, payload: bytes) -> tuple[tuple[str, Credential], ...]:
    """(key as written, login) of each usable entry of a Secret's data value, passwords included: for
    the checks that must log in with them. Entries `decode_secret` lists with a problem are left out."""
    config_format = ConfigFormat.for_secret_type(secret_type)
    _, entries = _load_secret(config_format, payload)
    prefix = "auths" if config_format is ConfigFormat.DOCKERCONFIGJSON else ""
    logins = []
    for key, value in entries.items():
        where = f'{prefix}["{key}"]'
        try:
            username, password, email = _entry_fields(value, where, [])
            if username is None:
                continue
            logins.append((key, _credential(key, username, cast(str, password), email, where)))
        except DockerConfigError:
            continue
    return tuple(logins)
