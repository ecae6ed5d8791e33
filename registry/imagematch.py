"""Which image-pull credentials the kubelet will use for an image, and why the others are not used.

The kubelet's rules (``pkg/credentialprovider``), reproduced here:

* Every key of every pull Secret of the pod goes into one keyring. A key is indexed as
  host[:port][/path]: an ``http://``/``https://`` scheme is dropped and a leading ``/v1/`` or
  ``/v2/`` of the path is ignored, so ``https://index.docker.io/v1/`` is indexed as
  ``index.docker.io``.
* The image is looked up by its normalised name without tag or digest, e.g.
  ``docker.io/library/nginx`` for ``nginx``.
* A key matches when its port equals the image's (no port on one side and a port on the other
  is a mismatch), its host has as many dot-separated labels as the image's with each label
  matching (``*`` stands for any run of characters within one label, ``?`` for one character;
  character classes are not modelled, Berth never writes them), and its path is a prefix
  of the image's path. That prefix test compares characters, not path segments: a key
  ``example.com/team/ap`` also covers ``example.com/team/app``.
* Ordering: the keyring sorts its distinct keys in reverse lexicographic (byte) order and tries
  the credentials of every matching key in that order, until a pull succeeds. Reverse order puts
  ``quay.io/coreos/etcd`` before ``quay.io/coreos`` before ``quay.io``, and a literal label before
  a ``*`` one (``*`` sorts below letters and digits), which is what "most specific first" means
  here. Several credentials under one key keep the order of the pod's ``imagePullSecrets``
  (within a single Secret their order is unspecified in the kubelet; here, the input order).
* Only when no key matches and the image is on Docker Hub by the kubelet's test (first path
  component ``docker.io``/``index.docker.io``, or with no ``.`` or ``:``, which also holds for
  ``localhost/...``) are the credentials under ``index.docker.io`` used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from dashboard.core.errors import InvalidInput

DEFAULT_DOMAIN = "docker.io"
# The key the kubelet files `https://index.docker.io/v1/` and `index.docker.io` under.
DOCKER_HUB_FALLBACK_KEY = "index.docker.io"

# The distribution reference grammar (github.com/distribution/reference).
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_RE = re.compile(rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::([0-9]+))?")
_PATH_COMPONENT_RE = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG_RE = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST_RE = re.compile(r"(sha256|sha384|sha512):([0-9a-f]+)")
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}
_NAME_MAX_LENGTH = 255


class ImageReferenceError(InvalidInput):
    default_code = "invalid_image_reference"
    component = "registry"


@dataclass(frozen=True)
class ImageReference:
    """A parsed image reference; `repository` is the path below the registry."""

    registry: str
    port: int | None
    repository: str
    tag: str | None
    digest: str | None

    @property
    def domain(self) -> str:
        return self.registry if self.port is None else f"{self.registry}:{self.port}"

    @property
    def name(self) -> str:
        """The normalised name the kubelet looks credentials up by."""
        return f"{self.domain}/{self.repository}"

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{self.name}{tag}{digest}"


def parse_image(reference: str) -> ImageReference:
    """Parse an image reference as the container runtime and kubelet do.

    A first component without ``.`` or ``:`` (and not ``localhost``) is part of a Docker Hub
    repository; a one-component Hub name gets ``library/``; ``index.docker.io`` is ``docker.io``.
    Without tag or digest the tag is ``latest``.
    """
    ref = reference.strip()
    if not ref:
        raise ImageReferenceError("the image reference is empty", extra={"field": "image"})
    if re.search(r"\s", ref):
        raise ImageReferenceError(f"image {ref!r} contains whitespace", extra={"field": "image"})
    name, at, digest = ref.partition("@")
    if at:
        digest = _checked_digest(ref, digest)
    tag: str | None = None
    last_colon, last_slash = name.rfind(":"), name.rfind("/")
    if last_colon > last_slash:
        name, tag = name[:last_colon], name[last_colon + 1 :]
        if not _TAG_RE.fullmatch(tag):
            raise ImageReferenceError(
                f"image {ref!r}: tag {tag!r} must be up to 128 letters, digits, '_', '.' "
                "or '-', not starting with '.' or '-'",
                extra={"field": "image"},
            )
    domain, remainder = _split_domain(name)
    match = _DOMAIN_RE.fullmatch(domain)
    if not match:
        raise ImageReferenceError(
            f"image {ref!r}: {domain!r} is not a valid registry host[:port]", extra={"field": "image"}
        )
    for component in remainder.split("/"):
        if component != component.lower() and _PATH_COMPONENT_RE.fullmatch(component.lower()):
            raise ImageReferenceError(f"image {ref!r}: repository names must be lower case", extra={"field": "image"})
        if not _PATH_COMPONENT_RE.fullmatch(component):
            raise ImageReferenceError(
                f"image {ref!r}: path component {component!r} must be lower-case letters and digits, "
                "separated by '.', '_', '__' or '-'",
                extra={"field": "image"},
            )
    if len(domain) + 1 + len(remainder) > _NAME_MAX_LENGTH:
        raise ImageReferenceError(
            f"image {ref!r}: the name is longer than {_NAME_MAX_LENGTH} characters", extra={"field": "image"}
        )
    port_text = match.group(1)
    host = domain[: -len(port_text) - 1] if port_text else domain
    if port_text is not None and not 1 <= int(port_text) <= 65535:
        raise ImageReferenceError(f"image {ref!r}: port {port_text} is out of range", extra={"field": "image"})
    return ImageReference(
        registry=host,
        port=int(port_text) if port_text else None,
        repository=remainder,
        tag=tag if tag or digest else "latest",
        digest=digest or None,
    )


def _checked_digest(ref: str, digest: str) -> str:
    match = _DIGEST_RE.fullmatch(digest)
    if not match or len(match.group(2)) != _DIGEST_HEX_LENGTH[match.group(1)]:
        raise ImageReferenceError(
            f"image {ref!r}: the digest must be sha256:<64 hex digits> (or sha384/sha512 with 96/128)",
            extra={"field": "image"},
        )
    return digest


def _split_domain(name: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    if not slash or (not any(c in first for c in ".:") and first != "localhost" and first == first.lower()):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain, remainder = first, rest
    if domain == "index.docker.io":
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = f"library/{remainder}"
    return domain, remainder


@dataclass(frozen=True)
class PullCredential:
    """One entry of an image-pull Secret: `server` is the key exactly as the Secret has it."""

    server: str
    secret: str
    username: str = ""


@dataclass(frozen=True)
class Verdict:
    credential: PullCredential
    key: str | None
    """The key as the kubelet indexes it; None when the kubelet cannot parse it and ignores it."""
    reason: str


@dataclass(frozen=True)
class MatchReport:
    image: ImageReference
    used: tuple[Verdict, ...]
    """Matching entries, in the order the kubelet tries them."""
    not_used: tuple[Verdict, ...]
    """Every other entry, with why it does not apply."""

    @property
    def match(self) -> PullCredential | None:
        """The entry tried first, or None: the kubelet then pulls without credentials."""
        return self.used[0].credential if self.used else None


@dataclass(frozen=True)
class _Location:
    labels: tuple[str, ...]
    port: str
    path: str

    @property
    def host(self) -> str:
        return ".".join(self.labels)


def kubelet_key(server: str) -> str | None:
    """The key the kubelet files a Secret entry under, or None if it cannot parse and ignores it."""
    value = server if server.startswith(("https://", "http://")) else f"https://{server}"
    _, _, rest = value.partition("://")
    authority, slash, path = rest.partition("/")
    host = authority.rpartition("@")[2]
    if not host or re.search(r"[\s\x00-\x1f\x7f]", value) or _split_host_port(host) is None:
        return None
    path = (slash + path).split("?", 1)[0].split("#", 1)[0]
    if path.startswith(("/v2/", "/v1/")):
        path = path[3:]
    return host + path if path and path != "/" else host


def _split_host_port(authority: str) -> tuple[str, str] | None:
    """(host, port) of host[:port], port "" when absent; None when the port is not a number."""
    if authority.startswith("["):
        host, _, rest = authority.partition("]")
        host, port = host + "]", rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = authority.partition(":")
    return (host, port) if port == "" or port.isdigit() else None


def _location(key: str) -> _Location:
    authority, slash, path = key.partition("/")
    host, port = _split_host_port(authority) or (authority, "")
    return _Location(labels=tuple(host.split(".")), port=port, path=slash + path)


def _label_matches(pattern: str, label: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, label, flags=re.DOTALL) is not None


def _mismatch(key: str, image: ImageReference, where: str) -> str | None:
    """Why `key` does not cover `image` under the kubelet's rules; None when it does.

    The kubelet checks port, label count, path, labels; the reasons are given host first, as that
    is the difference a person looks for first.
    """
    glob, target = _location(key), _location(image.name)
    if not any(c in glob.host for c in "*?"):
        if glob.host != target.host:
            hint = ""
            if glob.host in ("registry-1.docker.io", DOCKER_HUB_FALLBACK_KEY) and target.host == DEFAULT_DOMAIN:
                hint = "; for Docker Hub images the kubelet only uses keys for docker.io or https://index.docker.io/v1/"
            return f"{where}: {glob.host} is a different host from the image's {target.host}{hint}"
    elif len(glob.labels) != len(target.labels):
        return (
            f"{where}: {glob.host} has {len(glob.labels)} labels, the image's host {target.host} has "
            f"{len(target.labels)}, and a * stands for exactly one label"
        )
    elif not all(_label_matches(p, t) for p, t in zip(glob.labels, target.labels, strict=True)):
        return f"{where}: {glob.host} does not match the image's host {target.host}"
    if glob.port != target.port:
        if not target.port:
            return f"{where}: port {glob.port} in the key but the image uses the default port"
        if not glob.port:
            return f"{where}: the image uses port {target.port} but the key has no port"
        return f"{where}: port {glob.port} in the key, port {target.port} in the image"
    if not target.path.startswith(glob.path):
        return f"{where}, which is not a prefix of {image.name}"
    return None


def _is_docker_hub_name(name: str) -> bool:
    first, slash, _ = name.partition("/")
    if not first:
        return False
    if not slash or first in ("docker.io", "index.docker.io"):
        return True
    return not any(c in first for c in ".:")


def match_image(image: str | ImageReference, credentials: Iterable[PullCredential]) -> MatchReport:
    """Which of `credentials` (pod's pull Secrets, in imagePullSecrets order) the kubelet uses for `image`."""
    reference = parse_image(image) if isinstance(image, str) else image
    keyed: list[tuple[str, int, PullCredential]] = []
    not_used: list[tuple[int, Verdict]] = []
    for position, credential in enumerate(credentials):
        key = kubelet_key(credential.server)
        if key is None:
            not_used.append(
                (
                    position,
                    Verdict(
                        credential,
                        None,
                        (
                            f"secret {credential.secret} holds {credential.server!r}, which the kubelet cannot parse "
                            "and ignores"
                        ),
                    ),
                )
            )
        else:
            keyed.append((key, position, credential))
    # Reverse lexicographic by key; stable on position, so equal keys keep the secrets' order.
    keyed.sort(key=lambda item: item[1])
    keyed.sort(key=lambda item: item[0], reverse=True)

    used: list[Verdict] = []
    fallback: list[tuple[str, int, PullCredential]] = []
    for key, position, credential in keyed:
        where = f"secret {credential.secret} holds {key}"
        reason = _mismatch(key, reference, where)
        if reason is None:
            used.append(Verdict(credential, key, _match_reason(key, reference, where)))
        elif key == DOCKER_HUB_FALLBACK_KEY and _is_docker_hub_name(reference.name):
            fallback.append((key, position, credential))
        else:
            not_used.append((position, Verdict(credential, key, reason)))

    for key, position, credential in fallback:
        if used:
            not_used.append(
                (
                    position,
                    Verdict(
                        credential,
                        key,
                        (
                            f"secret {credential.secret} holds Docker Hub's {credential.server}, "
                            "which the kubelet uses only "
                            f"when no other key matches; {used[0].credential.secret}'s {used[0].key} matched first"
                        ),
                    ),
                )
            )
        else:
            used.append(
                Verdict(
                    credential,
                    key,
                    (
                        f"secret {credential.secret} holds Docker Hub's {credential.server}, used because no other key "
                        f"matches and the kubelet counts {reference.name} as a Docker Hub image"
                    ),
                )
            )
    not_used.sort(key=lambda item: item[0])
    return MatchReport(image=reference, used=tuple(used), not_used=tuple(verdict for _, verdict in not_used))


def _match_reason(key: str, image: ImageReference, where: str) -> str:
    path = _location(key).path
    if not path:
        return f"{where}, which covers every repository on {image.domain}"
    target_path = _location(image.name).path
    boundary = path.endswith("/") or len(target_path) == len(path) or target_path[len(path)] == "/"
    note = (
        ""
        if boundary
        else (
            f"; note: it matches only because the kubelet compares characters, "
            f"not path segments ({path} is not a directory of {target_path})"
        )
    )
    return f"{where}, a prefix of {image.name}{note}"
