"""Node-level credentials: the kubelet's own ``config.json``, the oldest way to pull privately.

Berth only writes the file into the response for the operator to install; it keeps nothing (the
response is marked no-store) and cannot see such files on nodes afterwards. Every pod on a node with
this file may pull with it, whatever its namespace: the kubelet uses it when no pull secret of the
pod matches the image.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from dashboard.audit.services import audited_action
from dashboard.core.actors import Actor
from dashboard.core.errors import InvalidInput, PermissionDenied
from registry.dockerconfig import Credential, build_config
from registry.services.registry_login import may_test_logins

KUBELET_PATH = "/var/lib/kubelet/config.json"
ALTERNATIVES = (
    "containerd: a hosts.toml per registry under /etc/containerd/certs.d/<registry>/ (mirrors, TLS); "
    "credentials for containerd's own pulls go in its CRI registry configs in /etc/containerd/config.toml",
    "CRI-O and Podman: /etc/containers/auth.json (same format as this file)",
    "the kubelet's image credential provider plugins (--image-credential-provider-config) for cloud registries",
)
WARNING = (
    "Every pod on the nodes that get this file may pull with these credentials, in every namespace, "
    "whenever none of its own pull secrets matches the image. Berth cannot see node files: they are "
    "not shown by the pull doctor or checked by credential health. Prefer pull secrets per namespace."
)


@dataclass(frozen=True)
class NodeConfig:
    document: bytes = field(repr=False)
    servers: tuple[str, ...]
    install_path: str = KUBELET_PATH
    alternatives: tuple[str, ...] = ALTERNATIVES
    warning: str = WARNING


@audited_action("registry.node_config.build", target=(), params=("servers", "usernames"))
def node_config_build(
    *, actor: Actor, credentials: Sequence[Credential], servers: Sequence[str], usernames: Sequence[str]
) -> NodeConfig:
    """A kubelet config.json holding `credentials` (`servers` and `usernames` repeat them for the audit).
    Operators in some tenant, as for Test login."""
    if not may_test_logins(actor):
        raise PermissionDenied(
            "Node credentials are for those who manage pull secrets: the operator role in a tenant.",
            code="role_denied",
        )
    if not credentials:
        raise InvalidInput("Give at least one registry login.", code="no_logins", extra={"field": "registries"})
    document = json.dumps(json.loads(build_config(credentials)), indent=2).encode() + b"\n"
    return NodeConfig(document=document, servers=tuple(credential.server for credential in credentials))
