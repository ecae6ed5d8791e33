"""Image-pull Secrets: list, create in several namespaces, rotate, edit entries, link, delete.

Only the two types the kubelet reads pull credentials from (see `ConfigFormat`) are shown or
touched. Passwords go from the caller into the Secret and nowhere else: the audit allow-lists
name servers and usernames only, results carry `DisplayEntry`s, and errors quote no data.

Tenancy: platform admins (staff) act in every namespace; anyone else only in the namespaces
their tenants' RegistryQuota lists, with the role each operation needs (viewer reads; operator
creates, rotates, edits entries and links; admin also deletes). Any other namespace answers 404
`tenant_denied`, whether it exists or not, and the attempt is recorded as denied.

Writes of an existing Secret replace it at the resourceVersion Berth read, so a concurrent
change is refused (409) rather than overwritten. A ServiceAccount's `imagePullSecrets` is an
atomic list (a patch replaces it whole, unlike a pod's), so links are changed by patching the
whole list guarded by the resourceVersion it was read at, and read again on a conflict: an
entry someone else adds meanwhile is never dropped.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from dashboard.audit.services import audited_action
from dashboard.core.actors import Actor
from dashboard.core.errors import BerthError, Conflict, InvalidInput
from dashboard.tenancy import services as tenancy
from registry.dockerconfig import (
    ConfigFormat,
    Credential,
    DisplayEntry,
    DockerConfigError,
    add_entry,
    build_config,
    decode_secret,
    remove_entry,
    replace_password,
)
from registry.models import KubeCluster
from registry.services import tenancy as registry_tenancy
from registry.services.kube import KubeApi
from registry.services.types import MANAGED_BY_LABEL, NamespaceResult, PullSecretInfo, SecretDeleteResult
from registry.validation import validate_labels, validate_names, validate_namespace, validate_subdomain

if TYPE_CHECKING:
    from kubernetes import client

DEFAULT_SERVICE_ACCOUNTS = ("default",)


class NotLinked(Conflict):
    """The secret was written, but some service accounts could not be linked to it."""

    default_code = "not_linked"
    component = "kubernetes"

    def __init__(self, message: str, *, outcome: str, linked: tuple[str, ...], not_linked: tuple[str, ...]):
        super().__init__(message, extra={"linked": list(linked), "not_linked": list(not_linked)})
        self.outcome = outcome
        self.linked = linked
        self.not_linked = not_linked


# --- reading --------------------------------------------------------------------------------


def service_account_list(*, actor: Actor, cluster: KubeCluster, namespace: str) -> list[str]:
    validate_namespace(namespace)
    registry_tenancy.registry_scope(actor=actor, cluster=cluster, namespace=namespace)
    return sorted(account.metadata.name for account in KubeApi(cluster).list_service_accounts(namespace))


def namespace_list(*, actor: Actor, cluster: KubeCluster) -> list[str]:
    """The namespaces `actor` may use: all of the cluster's for platform admins, otherwise those
    its tenants' registry quotas name on this cluster."""
    if tenancy.is_platform_admin(actor):
        return sorted(namespace.metadata.name for namespace in KubeApi(cluster).list_namespaces())
    return registry_tenancy.registry_namespaces_of(kube_cluster=cluster, tenants=tenancy.tenants_for(actor))


def _pull_secrets(api: KubeApi, namespace: str) -> list[client.V1Secret]:
    # Listed by type on the server, so other Secrets' data never reaches Berth.
    return [
        secret
        for config_format in ConfigFormat
        for secret in api.list_secrets(namespace, secret_type=config_format.secret_type)
    ]


def pull_secret_count(*, cluster: KubeCluster, namespace: str) -> int:
    """The pull secrets in `namespace`, counted as the per-namespace quota counts them (for the metrics)."""
    return len(_pull_secrets(KubeApi(cluster), namespace))


def secret_list(*, actor: Actor, cluster: KubeCluster, namespace: str) -> list[PullSecretInfo]:
    validate_namespace(namespace)
    registry_tenancy.registry_scope(actor=actor, cluster=cluster, namespace=namespace)
    api = KubeApi(cluster)
    secrets = _pull_secrets(api, namespace)
    accounts, pods = api.list_service_accounts(namespace), api.list_pods(namespace)
    return sorted((_info(cluster, secret, accounts, pods) for secret in secrets), key=lambda info: info.name)


def secret_get(*, actor: Actor, cluster: KubeCluster, namespace: str, name: str) -> PullSecretInfo:
    return _current_info(KubeApi(cluster), _validated(actor, cluster, namespace, name, tenancy.VIEWER), name)


def _validated(actor: Actor, cluster: KubeCluster, namespace: str, name: str, role: str) -> str:
    """The namespace, once the names are well-formed and `actor` holds `role` there."""
    validate_namespace(namespace)
    validate_subdomain(name, field="name")
    registry_tenancy.registry_scope(actor=actor, cluster=cluster, namespace=namespace, role=role)
    return namespace


def _current_info(api: KubeApi, namespace: str, name: str) -> PullSecretInfo:
    secret = _read_pull_secret(api, namespace, name)
    return _info(api.cluster, secret, api.list_service_accounts(namespace), api.list_pods(namespace))


def _info(
    cluster: KubeCluster,
    secret: client.V1Secret,
    accounts: list[client.V1ServiceAccount],
    pods: list[client.V1Pod],
) -> PullSecretInfo:
    name = secret.metadata.name
    entries: tuple[DisplayEntry, ...] = ()
    problem: str | None = None
    try:
        entries = decode_secret(secret.type, _payload(secret))
    except DockerConfigError as error:
        problem = error.message
    return PullSecretInfo(
        cluster=cluster.name,
        namespace=secret.metadata.namespace,
        name=name,
        type=secret.type,
        entries=entries,
        service_accounts=tuple(
            sorted(
                account.metadata.name for account in accounts if name in _pull_secret_names(account.image_pull_secrets)
            )
        ),
        pods=tuple(
            sorted(pod.metadata.name for pod in pods if name in _pull_secret_names(pod.spec.image_pull_secrets))
        ),
        labels=dict(secret.metadata.labels or {}),
        created=secret.metadata.creation_timestamp,
        problem=problem,
    )


def _pull_secret_names(references: list[client.V1LocalObjectReference] | None) -> list[str]:
    return [reference.name for reference in references or () if reference and reference.name]


def _read_pull_secret(api: KubeApi, namespace: str, name: str) -> client.V1Secret:
    secret = api.read_secret(namespace, name)
    try:
        ConfigFormat.for_secret_type(secret.type)
    except DockerConfigError:
        raise InvalidInput(
            f"Secret {name} in namespace {namespace} is of type {secret.type}, which holds no "
            "registry logins; Berth manages only kubernetes.io/dockerconfigjson and "
            "kubernetes.io/dockercfg secrets.",
            code="not_a_pull_secret",
            component="kubernetes",
        ) from None
    return secret


def _payload(secret: client.V1Secret) -> bytes:
    data_key = ConfigFormat.for_secret_type(secret.type).data_key
    encoded = (secret.data or {}).get(data_key)
    if encoded is None:
        raise DockerConfigError(f"the secret has no {data_key} key", field=data_key)
    return base64.b64decode(encoded)


def _encoded(payload: bytes) -> str:
    return base64.b64encode(payload).decode("ascii")


# --- creating ---------------------------------------------------------------------------------


def secret_create(
    *,
    actor: Actor,
    cluster: KubeCluster,
    namespaces: Sequence[str],
    name: str,
    credentials: Sequence[Credential],
    secret_type: str = ConfigFormat.DOCKERCONFIGJSON.secret_type,
    service_accounts: Sequence[str] = DEFAULT_SERVICE_ACCOUNTS,
    labels: Mapping[str, str] | None = None,
) -> list[NamespaceResult]:
    """Create (or bring up to date) secret `name` holding `credentials` in each of `namespaces`
    and link it to `service_accounts` there.

    Each namespace is done on its own and reported as created, updated or failed; running it
    again with the failed namespaces (or all) is safe. An existing secret of the same name and
    type ends up holding exactly `credentials`; one of another type is refused, as Kubernetes
    cannot change a secret's type. Nothing is written anywhere when the input is invalid.
    """
    namespaces = validate_names(namespaces, field="namespaces", rule=validate_namespace)
    if not namespaces:
        raise InvalidInput("namespaces: choose at least one namespace", code="invalid", extra={"field": "namespaces"})
    validate_subdomain(name, field="name")
    config_format = ConfigFormat.for_secret_type(secret_type)
    if not credentials:
        raise InvalidInput(
            "registries: give at least one registry login", code="invalid", extra={"field": "registries"}
        )
    payload = build_config(credentials, config_format=config_format)
    service_accounts = validate_names(service_accounts, field="service_accounts")
    labels = validate_labels(labels or {})

    results = []
    for namespace in namespaces:
        try:
            results.append(
                _secret_apply(
                    actor=actor,
                    cluster=cluster,
                    namespace=namespace,
                    name=name,
                    secret_type=secret_type,
                    payload=payload,
                    service_accounts=service_accounts,
                    labels=labels,
                    servers=[credential.server for credential in credentials],
                    usernames=[credential.username for credential in credentials],
                )
            )
        except NotLinked as error:
            results.append(
                NamespaceResult(
                    namespace=namespace,
                    outcome="failed",
                    linked=error.linked,
                    not_linked=error.not_linked,
                    error=error,
                    secret=_info_or_none(cluster, namespace, name),
                )
            )
        except BerthError as error:
            results.append(
                NamespaceResult(namespace=namespace, outcome="failed", error=error, not_linked=tuple(service_accounts))
            )
    return results


def _info_or_none(cluster: KubeCluster, namespace: str, name: str) -> PullSecretInfo | None:
    try:
        return _current_info(KubeApi(cluster), namespace, name)
    except BerthError:
        return None


# `servers` and `usernames` are derived from the credentials by `secret_create`, so the audit
# records whose logins went where while the payload holding the passwords stays out of it.
@audited_action(
    "registry.secret.create",
    target=("cluster", "namespace", "name"),
    params=("secret_type", "servers", "usernames", "service_accounts", "labels"),
)
def _secret_apply(
    *,
    actor: Actor,
    cluster: KubeCluster,
    namespace: str,
    name: str,
    secret_type: str,
    payload: bytes,
    service_accounts: list[str],
    labels: dict[str, str],
    servers: list[str],
    usernames: list[str],
) -> NamespaceResult:
    tenant = registry_tenancy.registry_scope(actor=actor, cluster=cluster, namespace=namespace, role=tenancy.OPERATOR)
    api = KubeApi(cluster)
    data_key = ConfigFormat.for_secret_type(secret_type).data_key
    existing = api.find_secret(namespace, name)
    if existing is None:
        # Only a new secret counts against the quota.
        with registry_tenancy.registry_quota_guard(
            actor=actor,
            tenant=tenant,
            kube_cluster=cluster,
            namespace=namespace,
            name=name,
            pull_secret_names=lambda: [secret.metadata.name for secret in _pull_secrets(api, namespace)],
        ):
            api.create_secret(
                namespace,
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "type": secret_type,
                    "metadata": {"name": name, "labels": {**labels, MANAGED_BY_LABEL: "berth"}},
                    "data": {data_key: _encoded(payload)},
                },
            )
        outcome = "created"
    elif existing.type != secret_type:
        raise Conflict(
            f"Secret {name} already exists in namespace {namespace} with type {existing.type}; "
            "Kubernetes cannot change a secret's type. Delete it first, or choose another name.",
            code="secret_type_mismatch",
            component="kubernetes",
        )
    else:
        existing.data = {data_key: _encoded(payload)}
        existing.metadata.labels = {**(existing.metadata.labels or {}), **labels}
        api.replace_secret(namespace, existing)
        outcome = "updated"
    linked, failures = link_accounts(api, namespace, name, service_accounts)
    if failures:
        raise NotLinked(
            f"Secret {name} was {outcome} in namespace {namespace}, but it is NOT linked to "
            f"{'; '.join(failures.values())}. Pods using those service accounts will not get it; "
            "fix the cause and retry.",
            outcome=outcome,
            linked=tuple(linked),
            not_linked=tuple(failures),
        )
    return NamespaceResult(
        namespace=namespace, outcome=outcome, linked=tuple(linked), secret=_current_info(api, namespace, name)
    )


def link_accounts(
    api: KubeApi, namespace: str, name: str, service_accounts: Iterable[str]
) -> tuple[list[str], dict[str, str]]:
    """Link `name` to each service account; ({linked}, {account: why not}) without raising."""
    linked, failures = [], {}
    for account_name in service_accounts:
        try:
            if _edit_pull_secrets(
                api, namespace, account_name, lambda names: names if name in names else [*names, name]
            ):
                linked.append(account_name)
            else:
                failures[account_name] = f"service account {account_name}, which does not exist in {namespace}"
        except BerthError as error:
            failures[account_name] = f"service account {account_name} ({error.message})"
    return linked, failures


# --- changing one secret ----------------------------------------------------------------------


def _rewrite(api: KubeApi, namespace: str, name: str, change: Callable[[str, bytes], bytes]) -> PullSecretInfo:
    """Apply `change(type, payload) -> payload` to the secret at the version read."""
    secret = _read_pull_secret(api, namespace, name)
    try:
        payload = _payload(secret)
    except DockerConfigError as error:
        raise DockerConfigError(f"Secret {name} cannot be edited: {error.message}", field=error.field) from None
    secret.data[ConfigFormat.for_secret_type(secret.type).data_key] = _encoded(change(secret.type, payload))
    api.replace_secret(namespace, secret)
    return _current_info(api, namespace, name)


@audited_action("registry.secret.rotate", target=("cluster", "namespace", "name"), params=("server",))
def secret_rotate(
    *, actor: Actor, cluster: KubeCluster, namespace: str, name: str, server: str, password: str
) -> PullSecretInfo:
    """Give `server`'s login a new password; every other entry stays as it was."""
    return _rewrite(
        KubeApi(cluster),
        _validated(actor, cluster, namespace, name, tenancy.OPERATOR),
        name,
        lambda secret_type, payload: replace_password(secret_type, payload, server=server, password=password),
    )


@audited_action("registry.secret.entry.add", target=("cluster", "namespace", "name"), params=("server", "username"))
def secret_add_entry(
    *,
    actor: Actor,
    cluster: KubeCluster,
    namespace: str,
    name: str,
    server: str,
    username: str,
    password: str,
    email: str | None = None,
) -> PullSecretInfo:
    credential = Credential(server=server, username=username, password=password, email=email)
    return _rewrite(
        KubeApi(cluster),
        _validated(actor, cluster, namespace, name, tenancy.OPERATOR),
        name,
        lambda secret_type, payload: add_entry(secret_type, payload, credential),
    )


@audited_action("registry.secret.entry.remove", target=("cluster", "namespace", "name"), params=("server",))
def secret_remove_entry(
    *, actor: Actor, cluster: KubeCluster, namespace: str, name: str, server: str
) -> PullSecretInfo:
    def without_entry(secret_type: str, payload: bytes) -> bytes:
        remaining = remove_entry(secret_type, payload, server=server)
        if not decode_secret(secret_type, remaining):
            raise InvalidInput(
                f"{server} is the only registry in secret {name}; delete the secret instead of leaving it empty.",
                code="last_entry",
                extra={"field": "server"},
            )
        return remaining

    return _rewrite(
        KubeApi(cluster), _validated(actor, cluster, namespace, name, tenancy.OPERATOR), name, without_entry
    )


@audited_action("registry.secret.link", target=("cluster", "namespace", "name"), params=("service_accounts",))
def secret_link(
    *, actor: Actor, cluster: KubeCluster, namespace: str, name: str, service_accounts: Sequence[str]
) -> PullSecretInfo:
    api = KubeApi(cluster)
    _read_pull_secret(api, _validated(actor, cluster, namespace, name, tenancy.OPERATOR), name)
    linked, failures = link_accounts(api, namespace, name, validate_names(service_accounts, field="service_accounts"))
    if failures:
        raise NotLinked(
            f"Secret {name} is NOT linked to {'; '.join(failures.values())}"
            + (f" (it is linked to {', '.join(linked)})" if linked else "")
            + ".",
            outcome="updated",
            linked=tuple(linked),
            not_linked=tuple(failures),
        )
    return _current_info(api, namespace, name)


@audited_action("registry.secret.unlink", target=("cluster", "namespace", "name"), params=("service_accounts",))
def secret_unlink(
    *, actor: Actor, cluster: KubeCluster, namespace: str, name: str, service_accounts: Sequence[str]
) -> PullSecretInfo:
    api = KubeApi(cluster)
    _validated(actor, cluster, namespace, name, tenancy.OPERATOR)
    for account_name in validate_names(service_accounts, field="service_accounts"):
        unlink_account(api, namespace, account_name, name)
    return _current_info(api, namespace, name)


def unlink_account(api: KubeApi, namespace: str, account_name: str, name: str) -> None:
    _edit_pull_secrets(api, namespace, account_name, lambda names: [other for other in names if other != name])


LINK_ATTEMPTS = 3


def _edit_pull_secrets(api: KubeApi, namespace: str, account_name: str, edit: Callable[[list[str]], list[str]]) -> bool:
    """Set the account's imagePullSecrets to `edit(current names)`; False if the account does not exist."""
    attempt = 0
    while True:
        attempt += 1
        account = api.find_service_account(namespace, account_name)
        if account is None:
            return False
        current = _pull_secret_names(account.image_pull_secrets)
        wanted = edit(current)
        if wanted == current:
            return True
        try:
            api.patch_service_account(
                namespace,
                account_name,
                {
                    "metadata": {"resourceVersion": account.metadata.resource_version},
                    "imagePullSecrets": [{"name": secret} for secret in wanted],
                },
            )
            return True
        except Conflict as error:
            if error.code != "kube_conflict" or attempt == LINK_ATTEMPTS:
                raise


@audited_action("registry.secret.delete", target=("cluster", "namespace", "name"))
def secret_delete(
    *, actor: Actor, cluster: KubeCluster, namespace: str, name: str, confirm_name: str
) -> SecretDeleteResult:
    """Unlink the secret from every service account of the namespace, then delete it.

    If an unlink fails the secret is not deleted, so no service account is left naming a secret
    that no longer exists.
    """
    api = KubeApi(cluster)
    _validated(actor, cluster, namespace, name, tenancy.ADMIN)
    if confirm_name != name:
        raise InvalidInput(
            f"confirm_name: type the secret's name, {name}, to delete it.",
            code="confirmation_mismatch",
            extra={"field": "confirm_name"},
        )
    _read_pull_secret(api, namespace, name)
    unlinked = []
    for account in api.list_service_accounts(namespace):
        if name in _pull_secret_names(account.image_pull_secrets):
            unlink_account(api, namespace, account.metadata.name, name)
            unlinked.append(account.metadata.name)
    pods = [
        pod.metadata.name for pod in api.list_pods(namespace) if name in _pull_secret_names(pod.spec.image_pull_secrets)
    ]
    api.delete_secret(namespace, name)
    return SecretDeleteResult(
        namespace=namespace, name=name, unlinked=tuple(sorted(unlinked)), pods_still_referencing=tuple(sorted(pods))
    )
