"""Managed pull secrets: one source Secret kept, as identical copies, in every namespace of a tenant.

The dockerconfigjson lives in a source Secret in one of the tenant's namespaces; Berth reads it
whenever it reconciles and stores no password. A reconcile (periodic, every BERTH_MANAGED_SECRET_RESYNC
seconds; on demand, "repair now"; and right after a change) makes every target namespace hold a copy
and links it to the chosen service accounts, those created since included.

Each copy carries the label `berth.io/managed-pull-secret: <id>` and the annotations naming its
source and the hash of the content Berth wrote. Two hashes tell the cases apart: a copy whose
content still matches its annotation but not the source is *outdated* (the source was rotated) and
always follows; a copy whose content no longer matches its own annotation was edited by hand and
*differs*: reported, or repaired when the drift policy (or "repair now") says so. A same-named
Secret without Berth's label is never overwritten; only "adopt" replaces it. A namespace annotated
`berth.io/managed-pull-secrets: "off"` is left alone.

Cost: observing the whole fleet takes four requests whatever the number of namespaces (the source,
the namespaces, the Secrets of that name in all namespaces by field selector, all service
accounts), so Berth needs to list namespaces, Secrets and service accounts cluster-wide. Writes come
on top only where something is to be done: one per copy created or updated, two per service account
linked (read, then the whole imagePullSecrets list written under its resourceVersion, as
registry/services/secrets.py does). See docs/managed-pull-secrets.md for measured figures.

Tenancy: the source must be in a namespace of the tenant's registry quota (checked on every change and
again on every reconcile, so a namespace the tenant loses stops being read), and copies go only to
namespaces of that quota. Admins create, change, adopt and delete; operators rotate and repair;
viewers see the fleet.
"""

from __future__ import annotations

import base64
import enum
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from dashboard.audit.services import audit_tenant, audited_action, record_event
from dashboard.core.actors import Actor
from dashboard.core.errors import BerthError, Conflict, InvalidInput, NotFound
from dashboard.tasks.models import BackgroundTask
from dashboard.tasks.scheduler import periodic
from dashboard.tasks.services import ProgressCallback, task_body, task_start
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Tenant
from registry.dockerconfig import ConfigFormat, Credential, DisplayEntry, build_config, decode_secret
from registry.models import KubeCluster, ManagedPullSecret, Notification, RegistryQuota
from registry.services import tenancy as registry_tenancy
from registry.services.kube import KubeApi
from registry.services.notifications import notify
from registry.services.secrets import link_accounts, unlink_account
from registry.services.types import MANAGED_BY_LABEL
from registry.validation import validate_labels, validate_names, validate_namespace, validate_subdomain

if TYPE_CHECKING:
    from kubernetes import client

MANAGED_LABEL = "berth.io/managed-pull-secret"
SOURCE_ANNOTATION = "berth.io/managed-source"
HASH_ANNOTATION = "berth.io/content-hash"
OPT_OUT_ANNOTATION = "berth.io/managed-pull-secrets"
DOCKERCONFIGJSON = ConfigFormat.DOCKERCONFIGJSON
RECONCILE_TASK = "registry.managed_secret.reconcile"
REMOVE_COPIES_TASK = "registry.managed_secret.remove_copies"


class State(enum.StrEnum):
    IN_SYNC = "in sync"
    MISSING = "missing"
    OUTDATED = "outdated"
    """Written by Berth from an earlier version of the source: it follows at the next reconcile."""
    DIFFERS = "differs"
    """Edited by someone else since Berth wrote it."""
    NOT_LINKED = "not linked"
    OPTED_OUT = "opted out"
    UNMANAGED = "unmanaged"
    """A same-named secret Berth did not write: left alone until adopted."""
    DEPARTED = "departed"
    """A copy in a namespace that left the target set."""


@dataclass(frozen=True)
class CopyFacts:
    """What a reconcile needs to know of an existing same-named secret."""

    managed: bool
    """It carries this managed secret's label."""
    digest: str
    """Hash of its content now."""
    recorded: str
    """Hash Berth recorded when it wrote it."""


@dataclass(frozen=True)
class NamespaceState:
    namespace: str
    state: State
    unlinked: tuple[str, ...] = ()
    """Chosen service accounts of the namespace that do not list the copy."""
    detail: str = ""


@dataclass(frozen=True)
class Fleet:
    managed: ManagedPullSecret
    cluster: str
    entries: tuple[DisplayEntry, ...]
    """The registries and usernames in the source (never a password)."""
    namespaces: tuple[NamespaceState, ...]
    api_calls: int
    task: BackgroundTask | None
    """The latest reconcile started for this secret on demand or after a change."""

    @property
    def registries(self) -> tuple[str, ...]:
        return tuple(entry.server for entry in self.entries)

    @property
    def in_sync(self) -> bool:
        return all(entry.state in (State.IN_SYNC, State.OPTED_OUT) for entry in self.namespaces)


def judge(
    *,
    namespace: str,
    opted_out: bool,
    copy: CopyFacts | None,
    source_digest: str,
    wanted_accounts: Sequence[str],
    linked_accounts: Sequence[str],
) -> NamespaceState:
    """The state of one target namespace (pure: the reconciler and the fleet view share it)."""
    if opted_out:
        return NamespaceState(namespace, State.OPTED_OUT)
    unlinked = tuple(account for account in wanted_accounts if account not in linked_accounts)
    if copy is None:
        return NamespaceState(namespace, State.MISSING, unlinked)
    if not copy.managed:
        return NamespaceState(namespace, State.UNMANAGED, unlinked)
    if copy.digest != copy.recorded:
        return NamespaceState(namespace, State.DIFFERS, unlinked)
    if copy.digest != source_digest:
        return NamespaceState(namespace, State.OUTDATED, unlinked)
    if unlinked:
        return NamespaceState(namespace, State.NOT_LINKED, unlinked)
    return NamespaceState(namespace, State.IN_SYNC)


def content_digest(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def wanted_accounts(managed: ManagedPullSecret, existing: Sequence[str]) -> list[str]:
    """The chosen accounts that exist in a namespace; one created later is chosen from then on."""
    if managed.accounts == ManagedPullSecret.ALL_ACCOUNTS:
        return sorted(existing)
    chosen = ["default"] if managed.accounts == ManagedPullSecret.DEFAULT_ACCOUNT else managed.account_names
    return [account for account in chosen if account in existing]


# --- observing ------------------------------------------------------------------------------------


@dataclass
class _Snapshot:
    """The fleet as four requests saw it."""

    cluster: KubeCluster
    source: client.V1Secret
    encoded: str
    digest: str
    targets: dict[str, client.V1Namespace]
    copies: dict[str, client.V1Secret]
    accounts: dict[str, list[client.V1ServiceAccount]]

    def facts(self, managed: ManagedPullSecret, namespace: str) -> CopyFacts | None:
        if (namespace, managed.name) == (managed.source_namespace, managed.source_name):
            return CopyFacts(managed=True, digest=self.digest, recorded=self.digest)  # the source is its own copy
        copy = self.copies.get(namespace)
        if copy is None:
            return None
        labels, annotations = copy.metadata.labels or {}, copy.metadata.annotations or {}
        if labels.get(MANAGED_LABEL) != str(managed.uid):
            return CopyFacts(managed=False, digest="", recorded="")
        data = (copy.data or {}).get(DOCKERCONFIGJSON.data_key) if copy.type == DOCKERCONFIGJSON.secret_type else None
        digest = content_digest(base64.b64decode(data)) if data is not None else ""
        return CopyFacts(managed=True, digest=digest, recorded=annotations.get(HASH_ANNOTATION, ""))

    def state(self, managed: ManagedPullSecret, namespace: str) -> NamespaceState:
        accounts = self.accounts.get(namespace, [])
        names = [account.metadata.name for account in accounts]
        annotations = self.targets[namespace].metadata.annotations or {}
        return judge(
            namespace=namespace,
            opted_out=annotations.get(OPT_OUT_ANNOTATION, "").lower() == "off",
            copy=self.facts(managed, namespace),
            source_digest=self.digest,
            wanted_accounts=wanted_accounts(managed, names),
            linked_accounts=[
                account.metadata.name
                for account in accounts
                if managed.name in [reference.name for reference in account.image_pull_secrets or ()]
            ],
        )

    def departed(self, managed: ManagedPullSecret) -> list[str]:
        return sorted(
            namespace
            for namespace, copy in self.copies.items()
            if namespace not in self.targets and (copy.metadata.labels or {}).get(MANAGED_LABEL) == str(managed.uid)
        )


def _quota(managed: ManagedPullSecret) -> RegistryQuota:
    quota = RegistryQuota.objects.select_related("kube_cluster").filter(tenant=managed.tenant_id).first()
    if quota is None:
        raise InvalidInput(
            f"Tenant {managed.tenant.slug} has no registry quota, so it has no namespaces to keep secrets in; "
            "a platform admin gives it one in the admin (Registry quotas).",
            code="no_registry_quota",
        )
    return quota


def _source_secret(api: KubeApi, quota: RegistryQuota, namespace: str, name: str) -> client.V1Secret:
    """The source, read only from a namespace of the tenant's quota: a source elsewhere would copy
    someone else's credentials into the tenant's namespaces."""
    if namespace not in _owned_namespaces(quota):
        raise NotFound(f"Namespace {namespace} does not exist, or is not one of your tenants'.", code="tenant_denied")
    secret = api.read_secret(namespace, name)
    if secret.type != DOCKERCONFIGJSON.secret_type or DOCKERCONFIGJSON.data_key not in (secret.data or {}):
        raise InvalidInput(
            f"source: secret {name} in namespace {namespace} is of type {secret.type}; the source of a managed "
            f"pull secret must be a {DOCKERCONFIGJSON.secret_type} secret with a {DOCKERCONFIGJSON.data_key} key.",
            code="not_a_pull_secret",
            extra={"field": "source_name"},
        )
    return secret


def _owned_namespaces(quota: RegistryQuota) -> set[str]:
    """The quota's namespaces that are the tenant's alone: one another tenant also lists belongs to neither."""
    owners = registry_tenancy.registry_namespace_owners(kube_cluster=quota.kube_cluster)
    return {namespace for namespace, tenant in owners.items() if tenant.pk == quota.tenant_id}


def _label_selector(labels: Mapping[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def _observe(api: KubeApi, managed: ManagedPullSecret) -> _Snapshot:
    quota = _quota(managed)
    source = _source_secret(api, quota, managed.source_namespace, managed.source_name)
    encoded = source.data[DOCKERCONFIGJSON.data_key]
    owned = _owned_namespaces(quota)
    targets = {
        namespace.metadata.name: namespace
        for namespace in api.list_namespaces(label_selector=_label_selector(managed.target_labels))
        # A terminating namespace refuses new objects; it is about to leave the set anyway.
        if namespace.metadata.name in owned and (namespace.status and namespace.status.phase) != "Terminating"
    }
    copies = {secret.metadata.namespace: secret for secret in api.list_secrets_named(managed.name)}
    accounts: dict[str, list[client.V1ServiceAccount]] = {}
    for account in api.list_service_accounts_everywhere():
        accounts.setdefault(account.metadata.namespace, []).append(account)
    return _Snapshot(
        cluster=api.cluster,
        source=source,
        encoded=encoded,
        digest=content_digest(base64.b64decode(encoded)),
        targets=targets,
        copies=copies,
        accounts=accounts,
    )


# --- repairing -------------------------------------------------------------------------------------


@audited_action(
    "registry.managed_secret.repair",
    target=("cluster", "namespace", "name"),
    params=("managed_secret", "repair", "service_accounts"),
)
def _repair_write(
    *,
    actor: Actor | None,
    tenant: Tenant,
    cluster: KubeCluster,
    namespace: str,
    name: str,
    managed_secret: str,
    repair: str,
    service_accounts: Sequence[str] = (),
    write: Callable[[], Any],
) -> Any:
    """One write of the reconciler (created, updated, repaired, adopted, linked, removed), recorded on its own."""
    return write()


def _copy_body(managed: ManagedPullSecret, snapshot: _Snapshot) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": DOCKERCONFIGJSON.secret_type,
        "metadata": {
            "name": managed.name,
            "labels": {MANAGED_BY_LABEL: "berth", MANAGED_LABEL: str(managed.uid)},
            "annotations": {
                SOURCE_ANNOTATION: f"{managed.source_namespace}/{managed.source_name}",
                HASH_ANNOTATION: snapshot.digest,
            },
        },
        "data": {DOCKERCONFIGJSON.data_key: snapshot.encoded},
    }


def _write_copy(api: KubeApi, managed: ManagedPullSecret, snapshot: _Snapshot, namespace: str) -> None:
    """Create the copy, or replace the secret there at the version observed (a change meanwhile is a
    conflict, left for the next reconcile). Kubernetes cannot change a secret's type: one of another
    type (only ever an adopted one) is deleted first."""
    body = _copy_body(managed, snapshot)
    existing = snapshot.copies.get(namespace)
    if existing is not None and existing.type != DOCKERCONFIGJSON.secret_type:
        api.delete_secret(namespace, managed.name)
        existing = None
    if existing is None:
        with registry_tenancy.registry_quota_admitted(
            tenant=managed.tenant,
            kube_cluster=api.cluster,
            namespace=namespace,
            name=managed.name,
            pull_secret_names=lambda: _pull_secret_names(api, namespace),
        ):
            api.create_secret(namespace, body)
        return
    existing.data = body["data"]
    existing.metadata.labels = {**(existing.metadata.labels or {}), **body["metadata"]["labels"]}
    existing.metadata.annotations = {**(existing.metadata.annotations or {}), **body["metadata"]["annotations"]}
    api.replace_secret(namespace, existing)


def _pull_secret_names(api: KubeApi, namespace: str) -> list[str]:
    return [
        secret.metadata.name
        for config_format in ConfigFormat
        for secret in api.list_secrets(namespace, secret_type=config_format.secret_type)
    ]


def _link(
    api: KubeApi, managed: ManagedPullSecret, actor: Actor | None, namespace: str, accounts: Sequence[str]
) -> None:
    def write() -> None:
        _, failures = link_accounts(api, namespace, managed.name, accounts)
        if failures:
            raise Conflict(
                f"Secret {managed.name} is NOT linked to {'; '.join(failures.values())}.",
                code="not_linked",
                component="kubernetes",
            )

    _repair_write(
        **_repair_target(api, managed, actor, namespace), repair="linked", service_accounts=accounts, write=write
    )


def _repair_target(api: KubeApi, managed: ManagedPullSecret, actor: Actor | None, namespace: str) -> dict[str, Any]:
    return {
        "actor": actor,
        "tenant": managed.tenant,
        "cluster": api.cluster,
        "namespace": namespace,
        "name": managed.name,
        "managed_secret": f"{managed.tenant.slug}/{managed.name}",
    }


WRITES = {State.MISSING: "created", State.OUTDATED: "updated", State.DIFFERS: "repaired", State.UNMANAGED: "adopted"}


def _bring_in_line(
    api: KubeApi,
    managed: ManagedPullSecret,
    snapshot: _Snapshot,
    found: NamespaceState,
    *,
    actor: Actor | None,
    force: bool,
    adopt: bool = False,
) -> NamespaceState:
    """Repair what the state and the policy allow (`force`: hand-edited copies too; `adopt`: a secret
    Berth did not write); answer the state afterwards."""
    namespace = found.namespace
    if found.state in (State.OPTED_OUT, State.IN_SYNC) or (found.state == State.UNMANAGED and not adopt):
        return found
    if found.state == State.DIFFERS and not (force or managed.drift_policy == ManagedPullSecret.REPAIR):
        return found
    if found.state in WRITES:
        _repair_write(
            **_repair_target(api, managed, actor, namespace),
            repair=WRITES[found.state],
            write=lambda: _write_copy(api, managed, snapshot, namespace),
        )
    if found.unlinked:
        _link(api, managed, actor, namespace, found.unlinked)
    return NamespaceState(namespace, State.IN_SYNC)


def _remove_copy(
    api: KubeApi,
    managed: ManagedPullSecret,
    accounts: Sequence[client.V1ServiceAccount],
    namespace: str,
    *,
    actor: Actor | None = None,
) -> None:
    """Unlink the copy from every account of the namespace that lists it, then delete it."""

    def write() -> None:
        for account in accounts:
            if managed.name in [reference.name for reference in account.image_pull_secrets or ()]:
                unlink_account(api, namespace, account.metadata.name, managed.name)
        api.delete_secret(namespace, managed.name)

    _repair_write(**_repair_target(api, managed, actor, namespace), repair="removed", write=write)


@dataclass(frozen=True)
class ReconcileResult:
    states: dict[str, str]
    repaired: list[str]
    drift: list[str]
    errors: dict[str, str]
    api_calls: int

    def summary(self) -> dict[str, Any]:
        return {
            "namespaces": len(self.states),
            "repaired": self.repaired,
            "drift": self.drift,
            "errors": self.errors,
            "api_calls": self.api_calls,
        }


def managed_secret_reconcile(
    *, managed: ManagedPullSecret, force: bool = False, progress: ProgressCallback | None = None
) -> ReconcileResult:
    """Bring every target namespace in line, namespace by namespace (one failing does not stop the
    others). Berth itself acts here: the scheduler and the workers call it; people call `managed_secret_repair`."""
    api = KubeApi(_quota(managed).kube_cluster)
    try:
        snapshot = _observe(api, managed)
    except BerthError as error:
        ManagedPullSecret.objects.filter(pk=managed.pk).update(last_reconciled=timezone.now(), last_error=error.message)
        _notify_new_error(managed, error.message)
        raise
    departed = snapshot.departed(managed) if managed.remove_departed else []
    total = len(snapshot.targets) + len(departed)
    states: dict[str, str] = {}
    repaired: list[str] = []
    drift_repaired: list[str] = []
    errors: dict[str, str] = {}
    for done, namespace in enumerate(sorted(snapshot.targets), start=1):
        if not _still_managed(managed):
            break
        found = snapshot.state(managed, namespace)
        try:
            after = _bring_in_line(api, managed, snapshot, found, actor=None, force=force)
        except BerthError as error:
            after, errors[namespace] = found, error.message
        if after.state != found.state:
            repaired.append(namespace)
            if found.state == State.DIFFERS:
                drift_repaired.append(namespace)
        states[namespace] = after.state.value
        if progress is not None:
            progress(done, total)
    for done, namespace in enumerate(departed, start=len(snapshot.targets) + 1):
        if not _still_managed(managed):
            break
        try:
            _remove_copy(api, managed, snapshot.accounts.get(namespace, []), namespace)
            repaired.append(namespace)
        except BerthError as error:
            states[namespace], errors[namespace] = State.DEPARTED.value, error.message
        if progress is not None:
            progress(done, total)
    drift = _report_new_drift(managed, api.cluster, states)
    if drift_repaired:
        notify(
            managed.tenant,
            Notification.DRIFT_REPAIRED,
            f"Managed pull secret {managed.name}: hand-edited copies repaired in {', '.join(drift_repaired)}.",
            {"managed_secret": f"{managed.tenant.slug}/{managed.name}", "namespaces": drift_repaired},
        )
    last_error = "; ".join(f"{namespace}: {message}" for namespace, message in errors.items())
    ManagedPullSecret.objects.filter(pk=managed.pk).update(
        states=states, last_reconciled=timezone.now(), last_error=last_error
    )
    _notify_new_error(managed, last_error)
    return ReconcileResult(states, repaired, drift, errors, api.calls)


def _still_managed(managed: ManagedPullSecret) -> bool:
    """False once deleted (while a reconcile runs): its copies are no longer Berth's to write, and may be
    being removed."""
    return ManagedPullSecret.objects.filter(pk=managed.pk).exists()


def _notify_new_error(managed: ManagedPullSecret, error: str) -> None:
    """A reconcile error is told once, when it first appears or changes, not every period it lasts."""
    if error and error != managed.last_error:
        notify(
            managed.tenant,
            Notification.RECONCILE_ERROR,
            f"Managed pull secret {managed.name} could not be kept in line: {error}",
            {"managed_secret": f"{managed.tenant.slug}/{managed.name}"},
        )


def _report_new_drift(managed: ManagedPullSecret, cluster: KubeCluster, states: dict[str, str]) -> list[str]:
    """Record and tell each namespace whose copy is newly found edited by hand, once rather than every period."""
    drift = [namespace for namespace, state in states.items() if state == State.DIFFERS]
    for namespace in drift:
        if managed.states.get(namespace) != State.DIFFERS:
            notify(
                managed.tenant,
                Notification.DRIFT_FOUND,
                f"Managed pull secret {managed.name}: the copy in {namespace} was edited by hand "
                + ("and is reported only (drift policy)." if managed.drift_policy == ManagedPullSecret.REPORT else "."),
                {"managed_secret": f"{managed.tenant.slug}/{managed.name}", "namespace": namespace},
            )
            record_event(
                actor=None,
                action="registry.managed_secret.drift",
                target={"cluster": cluster.name, "namespace": namespace, "name": managed.name},
                parameters={"managed_secret": f"{managed.tenant.slug}/{managed.name}", "policy": managed.drift_policy},
                outcome="success",
                tenant=managed.tenant,
            )
    return drift


@task_body(RECONCILE_TASK)
def managed_secret_reconcile_task(*, progress: ProgressCallback, managed_secret: str, force: bool) -> dict[str, Any]:
    managed = ManagedPullSecret.objects.select_related("tenant").filter(uid=managed_secret).first()
    if managed is None:
        return {"deleted": True}
    return managed_secret_reconcile(managed=managed, force=force, progress=progress).summary()


@periodic(
    "registry.managed_secrets.resync",
    every=lambda: timedelta(seconds=settings.BERTH_MANAGED_SECRET_RESYNC),
    description="Keep every managed pull secret's copies in their namespaces and linked to their service accounts",
    audit_runs=False,
)
def managed_secrets_resync(*, progress: ProgressCallback) -> dict[str, Any]:
    """A secret whose source or cluster fails is skipped (its last_error says why), not the whole run."""
    managed_secrets = list(ManagedPullSecret.objects.select_related("tenant"))
    results: dict[str, Any] = {}
    for done, managed in enumerate(managed_secrets, start=1):
        key = f"{managed.tenant.slug}/{managed.name}"
        try:
            results[key] = managed_secret_reconcile(managed=managed).summary()
        except BerthError as error:
            results[key] = {"error": error.message}
        progress(done, len(managed_secrets))
    return results


def _start(managed: ManagedPullSecret, actor: Actor | None, *, force: bool) -> BackgroundTask:
    return task_start(
        actor=actor,
        tenant=managed.tenant,
        name=RECONCILE_TASK,
        target={"managed_secret": str(managed.uid), "repair": force},
        arguments={"managed_secret": str(managed.uid), "force": force},
    )


# --- people's services ----------------------------------------------------------------------------


def managed_secret_list(*, actor: Actor, tenant: Tenant | None = None) -> list[ManagedPullSecret]:
    """The managed secrets of the actor's tenants (of `tenant` only, when given)."""
    found = ManagedPullSecret.objects.select_related("tenant").filter(tenant__in=tenancy.tenants_for(actor))
    if tenant is not None:
        tenancy.require_role(actor, tenant, tenancy.VIEWER)
        found = found.filter(tenant=tenant)
    return list(found)


def managed_secrets_visible(*, actor: Actor) -> bool:
    """Whether the actor may see any tenant's managed secrets (a member of a tenant, or a platform admin)."""
    return tenancy.tenants_for(actor).exists()


def managed_secret_get(*, actor: Actor, tenant: str, name: str) -> ManagedPullSecret:
    owner = tenancy.tenant_get(actor=actor, slug=tenant)
    managed = ManagedPullSecret.objects.select_related("tenant").filter(tenant=owner, name=name).first()
    if managed is None:
        raise NotFound(f"Tenant {tenant} has no managed pull secret {name}.", code="managed_secret_not_found")
    return managed


def managed_secret_fleet(*, actor: Actor, managed: ManagedPullSecret) -> Fleet:
    """Every target namespace's state as Kubernetes has it now (and departed copies)."""
    tenancy.require_role(actor, managed.tenant, tenancy.VIEWER)
    api = KubeApi(_quota(managed).kube_cluster)
    snapshot = _observe(api, managed)
    states = [snapshot.state(managed, namespace) for namespace in sorted(snapshot.targets)]
    states += [NamespaceState(namespace, State.DEPARTED) for namespace in snapshot.departed(managed)]
    entries = decode_secret(DOCKERCONFIGJSON.secret_type, base64.b64decode(snapshot.encoded))
    return Fleet(
        managed=managed,
        cluster=api.cluster.name,
        entries=entries,
        namespaces=tuple(states),
        api_calls=api.calls,
        task=BackgroundTask.objects.filter(name=RECONCILE_TASK, target__managed_secret=str(managed.uid)).first(),
    )


def _validated(
    tenant: Tenant,
    *,
    source_namespace: str,
    source_name: str,
    target_labels: Mapping[str, str] | None,
    accounts: str,
    account_names: Sequence[str],
    drift_policy: str,
) -> dict[str, Any]:
    validate_namespace(source_namespace, field="source_namespace")
    validate_subdomain(source_name, field="source_name")
    if accounts not in dict(ManagedPullSecret.ACCOUNT_MODES):
        raise InvalidInput(
            f"accounts: choose one of {', '.join(dict(ManagedPullSecret.ACCOUNT_MODES))}",
            code="invalid",
            extra={"field": "accounts"},
        )
    names = validate_names(account_names, field="account_names")
    if accounts == ManagedPullSecret.LISTED_ACCOUNTS and not names:
        raise InvalidInput(
            "account_names: list at least one service account", code="invalid", extra={"field": "account_names"}
        )
    if drift_policy not in dict(ManagedPullSecret.DRIFT_POLICIES):
        raise InvalidInput(
            f"drift_policy: choose one of {', '.join(dict(ManagedPullSecret.DRIFT_POLICIES))}",
            code="invalid",
            extra={"field": "drift_policy"},
        )
    probe = ManagedPullSecret(tenant=tenant)
    quota = _quota(probe)
    _source_secret(KubeApi(quota.kube_cluster), quota, source_namespace, source_name)
    return {
        "source_namespace": source_namespace,
        "source_name": source_name,
        "target_labels": validate_labels(target_labels or {}, field="target_labels"),
        "accounts": accounts,
        "account_names": names if accounts == ManagedPullSecret.LISTED_ACCOUNTS else [],
        "drift_policy": drift_policy,
    }


_SETTINGS = ("source_namespace", "source_name", "target_labels", "accounts", "account_names", "drift_policy")


@audited_action(
    "registry.managed_secret.create",
    target=("tenant", "name"),
    params=(*_SETTINGS, "remove_departed"),
)
def managed_secret_create(
    *,
    actor: Actor,
    tenant: Tenant,
    name: str,
    source_namespace: str,
    source_name: str,
    target_labels: Mapping[str, str] | None = None,
    accounts: str = ManagedPullSecret.DEFAULT_ACCOUNT,
    account_names: Sequence[str] = (),
    drift_policy: str = ManagedPullSecret.REPORT,
    remove_departed: bool = False,
) -> ManagedPullSecret:
    """Keep source's content as secret `name` in the tenant's namespaces; the first reconcile starts at once."""
    tenancy.require_role(actor, tenant, tenancy.ADMIN)
    validate_subdomain(name, field="name")
    fields = _validated(
        tenant,
        source_namespace=source_namespace,
        source_name=source_name,
        target_labels=target_labels,
        accounts=accounts,
        account_names=account_names,
        drift_policy=drift_policy,
    )
    try:
        managed = ManagedPullSecret.objects.create(tenant=tenant, name=name, remove_departed=remove_departed, **fields)
    except IntegrityError:
        raise Conflict(
            f"Tenant {tenant.slug} already has a managed pull secret {name}.", code="already_exists"
        ) from None
    _start(managed, actor, force=False)
    return managed


@audited_action("registry.managed_secret.update", target=("managed",), params=(*_SETTINGS, "remove_departed"))
def managed_secret_update(
    *,
    actor: Actor,
    managed: ManagedPullSecret,
    source_namespace: str,
    source_name: str,
    target_labels: Mapping[str, str] | None,
    accounts: str,
    account_names: Sequence[str],
    drift_policy: str,
    remove_departed: bool,
) -> ManagedPullSecret:
    """Change everything but the name (renaming would leave the copies behind); a reconcile follows."""
    audit_tenant(managed.tenant)
    tenancy.require_role(actor, managed.tenant, tenancy.ADMIN)
    fields = _validated(
        managed.tenant,
        source_namespace=source_namespace,
        source_name=source_name,
        target_labels=target_labels,
        accounts=accounts,
        account_names=account_names,
        drift_policy=drift_policy,
    )
    for key, value in {**fields, "remove_departed": remove_departed}.items():
        setattr(managed, key, value)
    managed.save()
    _start(managed, actor, force=False)
    return managed


@audited_action("registry.managed_secret.delete", target=("managed",), params=("remove_copies",))
def managed_secret_delete(
    *, actor: Actor, managed: ManagedPullSecret, confirm_name: str, remove_copies: bool = False
) -> BackgroundTask | None:
    """Stop managing it. By default the copies stay where they are, as secrets Berth no longer keeps;
    with `remove_copies` a background task (answered) unlinks them from their service accounts and
    deletes them, namespace by namespace."""
    audit_tenant(managed.tenant)
    tenancy.require_role(actor, managed.tenant, tenancy.ADMIN)
    if confirm_name != managed.name:
        raise InvalidInput(
            f"confirm_name: type the managed secret's name, {managed.name}, to delete it.",
            code="confirmation_mismatch",
            extra={"field": "confirm_name"},
        )
    with transaction.atomic():
        managed.delete()
        if not remove_copies:
            return None
        # The row is gone before the task runs, so no reconcile writes a copy back meanwhile; the
        # task finds the copies by the deleted secret's uid.
        return task_start(
            actor=actor,
            tenant=managed.tenant,
            name=REMOVE_COPIES_TASK,
            target={"managed_secret": str(managed.uid), "remove_copies": True},
            arguments={
                "tenant": managed.tenant.pk,
                "managed_secret": str(managed.uid),
                "name": managed.name,
                "source": [managed.source_namespace, managed.source_name],
            },
        )


@task_body(REMOVE_COPIES_TASK)
def managed_secret_remove_copies_task(
    *, progress: ProgressCallback, tenant: int, managed_secret: str, name: str, source: list[str]
) -> dict[str, Any]:
    """Copies only in namespaces the tenant's registry quota gives it alone, as it is now: one carrying
    the label in a namespace the tenant has lost (or shares) is not the tenant's to delete. The source
    is never touched, whatever its name."""
    owner = Tenant.objects.filter(pk=tenant).first()
    if owner is None:
        return {"removed": [], "note": "the tenant no longer exists"}
    gone = ManagedPullSecret(
        tenant=owner, uid=managed_secret, name=name, source_namespace=source[0], source_name=source[1]
    )
    quota = _quota(gone)
    api = KubeApi(quota.kube_cluster)
    owned = _owned_namespaces(quota)
    namespaces = sorted(
        secret.metadata.namespace
        for secret in api.list_secrets_named(name)
        if secret.metadata.namespace in owned
        and (secret.metadata.labels or {}).get(MANAGED_LABEL) == managed_secret
        and (secret.metadata.namespace, name) != tuple(source)
    )
    accounts: dict[str, list[client.V1ServiceAccount]] = {}
    for account in api.list_service_accounts_everywhere():
        accounts.setdefault(account.metadata.namespace, []).append(account)
    removed: list[str] = []
    errors: dict[str, str] = {}
    for done, namespace in enumerate(namespaces, start=1):
        try:
            _remove_copy(api, gone, accounts.get(namespace, []), namespace)
            removed.append(namespace)
        except BerthError as error:
            errors[namespace] = error.message
        progress(done, len(namespaces))
    if errors:
        raise Conflict(
            f"Removed the copies of {name} from {len(removed)} namespace(s); not from "
            + "; ".join(f"{namespace} ({message})" for namespace, message in errors.items()),
            code="copies_left",
            component="kubernetes",
        )
    return {"removed": removed}


@audited_action("registry.managed_secret.repair_now", target=("managed",))
def managed_secret_repair(*, actor: Actor, managed: ManagedPullSecret) -> BackgroundTask:
    """Reconcile now, repairing hand-edited copies whatever the drift policy (unmanaged ones still need adopt)."""
    audit_tenant(managed.tenant)
    tenancy.require_role(actor, managed.tenant, tenancy.OPERATOR)
    return _start(managed, actor, force=True)


@audited_action("registry.managed_secret.adopt", target=("managed", "namespace"))
def managed_secret_adopt(*, actor: Actor, managed: ManagedPullSecret, namespace: str) -> NamespaceState:
    """Replace the same-named secret Berth did not write in `namespace` with the managed copy."""
    audit_tenant(managed.tenant)
    tenancy.require_role(actor, managed.tenant, tenancy.ADMIN)
    validate_namespace(namespace)
    api = KubeApi(_quota(managed).kube_cluster)
    snapshot = _observe(api, managed)
    if namespace not in snapshot.targets:
        raise NotFound(
            f"Namespace {namespace} is not one of the namespaces {managed.name} is kept in.", code="not_a_target"
        )
    found = snapshot.state(managed, namespace)
    if found.state != State.UNMANAGED:
        raise Conflict(
            f"The secret {managed.name} in namespace {namespace} is {found.state.value}; only a secret Berth does not "
            "manage is adopted.",
            code="not_unmanaged",
        )
    return _bring_in_line(api, managed, snapshot, found, actor=actor, force=True, adopt=True)


def managed_secret_rotate(
    *, actor: Actor, managed: ManagedPullSecret, credentials: Sequence[Credential]
) -> BackgroundTask:
    """Write new logins into the source (replacing its content at the version read); every copy follows
    in the reconcile started here."""
    if not credentials:
        raise InvalidInput(
            "registries: give at least one registry login", code="invalid", extra={"field": "registries"}
        )
    return _rotate_source(
        actor=actor,
        managed=managed,
        payload=build_config(credentials, config_format=DOCKERCONFIGJSON),
        servers=[credential.server for credential in credentials],
        usernames=[credential.username for credential in credentials],
    )


# `servers` and `usernames` come from the credentials, so the audit says whose logins the source now
# holds while the payload with the passwords stays out of it.
@audited_action("registry.managed_secret.rotate", target=("managed",), params=("servers", "usernames"))
def _rotate_source(
    *, actor: Actor, managed: ManagedPullSecret, payload: bytes, servers: list[str], usernames: list[str]
) -> BackgroundTask:
    audit_tenant(managed.tenant)
    tenancy.require_role(actor, managed.tenant, tenancy.OPERATOR)
    quota = _quota(managed)
    api = KubeApi(quota.kube_cluster)
    source = _source_secret(api, quota, managed.source_namespace, managed.source_name)
    source.data = {DOCKERCONFIGJSON.data_key: base64.b64encode(payload).decode("ascii")}
    api.replace_secret(managed.source_namespace, source)
    return _start(managed, actor, force=False)
