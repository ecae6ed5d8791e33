"""Credential health: a periodic Test login with every registry entry of every pull secret in the
tenants' registry namespaces, recording when each last worked and when it last failed and why.

The password is read from the Secret for each check and goes only to the registry's login (see
`registry.services.registry_login`, whose destination policy, deadline and byte caps apply here
too); the record holds outcomes, reasons and usernames. An entry may carry an expiry date (robot
accounts expire silently): a warning goes out `BERTH_CREDENTIAL_EXPIRY_WARNING_DAYS` ahead.

`credential_health_check` works on any pull Secret, whoever made it: the periodic job calls it for
every pull secret in every registry-quota namespace, and managed pull secrets can call it for their
source Secrets.

A background run records an audit event only when an entry's state changes (works / fails), so a
check every few minutes does not bury the audit log; checks asked for by a user are audited as such.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from dashboard.audit.services import audit_result, audited_action, record_event
from dashboard.core.actors import Actor
from dashboard.core.errors import BerthError, InvalidInput, NotFound
from dashboard.tasks.scheduler import periodic
from dashboard.tasks.services import ProgressCallback
from dashboard.tenancy import services as tenancy
from registry.dockerconfig import ConfigFormat, DockerConfigError, secret_logins
from registry.models import CredentialHealth, KubeCluster, Notification, RegistryQuota
from registry.services import tenancy as registry_tenancy
from registry.services.kube import KubeApi
from registry.services.notifications import notify
from registry.services.registry_login import DestinationRefused, LoginOutcome, check_login, runtime_server
from registry.validation import validate_namespace, validate_subdomain

logger = logging.getLogger(__name__)

REFUSED = "refused"
"""The outcome recorded when Berth's destination policy does not let it connect to the registry."""
UNUSABLE = "unusable"
"""The outcome recorded when the entry's server cannot be tested (a wildcard key, plain http elsewhere)."""


@dataclass(frozen=True)
class HealthChange:
    """An entry whose state changed in a check: it started failing, or works again."""

    row: CredentialHealth
    now_failing: bool


def credential_health_check(*, cluster: KubeCluster, namespace: str, secret_name: str) -> list[CredentialHealth]:
    """Test-login with every entry of pull Secret `namespace/secret_name` and record the outcomes.

    Berth's own work (no actor, no tenancy check): callers decide which Secrets to check. Rows of
    entries the Secret no longer holds are removed; a Secret that is gone removes all of them.
    Raises the Kubernetes errors of reading the Secret (`KubeUnreachable`, ...).
    """
    api = KubeApi(cluster)
    secret = api.find_secret(namespace, secret_name)
    rows = CredentialHealth.objects.filter(kube_cluster=cluster, namespace=namespace, secret_name=secret_name)
    if secret is None:
        rows.delete()
        return []
    try:
        config_format = ConfigFormat.for_secret_type(secret.type)
        encoded = (secret.data or {}).get(config_format.data_key)
        logins = secret_logins(secret.type, base64.b64decode(encoded or ""))
    except (DockerConfigError, ValueError):
        rows.delete()
        return []
    tenant = registry_tenancy.registry_tenant_for(kube_cluster=cluster, namespace=namespace)
    checked = []
    for key, credential in logins:
        row, _ = CredentialHealth.objects.get_or_create(
            kube_cluster=cluster, namespace=namespace, secret_name=secret_name, registry=key
        )
        was_failing = row.failing
        outcome, reason = _try_login(key, credential.username, credential.password)
        now = timezone.now()
        row.username, row.tenant, row.last_checked, row.last_outcome = credential.username, tenant, now, outcome
        if outcome == LoginOutcome.OK:
            row.last_success = now
        else:
            row.last_failure, row.last_failure_reason = now, reason
        row.save()
        if row.failing != was_failing:
            _state_changed(HealthChange(row, row.failing))
        checked.append(row)
    rows.exclude(registry__in=[key for key, _ in logins]).delete()
    return checked


def _try_login(server: str, username: str, password: str) -> tuple[str, str]:
    try:
        result = check_login(runtime_server(server), username, password)
    except DestinationRefused as refused:
        return REFUSED, refused.message
    except DockerConfigError as error:
        return UNUSABLE, error.message
    return result.outcome.value, result.message


def _state_changed(change: HealthChange) -> None:
    row = change.row
    what = f"{row.registry} in pull secret {row.namespace}/{row.secret_name}"
    record_event(
        actor=None,
        action="registry.credential.health",
        target={"cluster": str(row.kube_cluster), "namespace": row.namespace, "secret": row.secret_name},
        parameters={"registry": row.registry, "username": row.username, "outcome": row.last_outcome},
        outcome="failed" if change.now_failing else "success",
        error=row.last_failure_reason if change.now_failing else "",
        tenant=row.tenant,
    )
    logger.info("credential %s: %s", what, "failing" if change.now_failing else "works again")
    details = {
        "cluster": row.kube_cluster.name,
        "namespace": row.namespace,
        "secret": row.secret_name,
        "registry": row.registry,
        "username": row.username,
        "outcome": row.last_outcome,
    }
    if change.now_failing:
        notify(
            row.tenant,
            Notification.CREDENTIAL_FAILING,
            f"The login of {row.username} to {what} fails: {row.last_failure_reason}",
            {**details, "reason": row.last_failure_reason},
        )
    else:
        text = f"The login of {row.username} to {what} works again"
        notify(row.tenant, Notification.CREDENTIAL_RECOVERED, text, details)


def expiry_warnings_due(*, today: dt.date | None = None) -> list[CredentialHealth]:
    """Entries expiring within the warning window whose warning for that date was not sent yet; marks
    them as warned."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=settings.BERTH_CREDENTIAL_EXPIRY_WARNING_DAYS)
    due = list(
        CredentialHealth.objects.filter(expires_on__isnull=False, expires_on__lte=horizon).exclude(
            expiry_warned_for=F("expires_on")
        )
    )
    for row in due:
        CredentialHealth.objects.filter(pk=row.pk).update(expiry_warned_for=row.expires_on)
        assert row.expires_on is not None
        days = (row.expires_on - today).days
        when = f"in {days} days" if days > 0 else "today" if days == 0 else f"{-days} days ago"
        notify(
            row.tenant,
            Notification.EXPIRY_NEAR,
            f"The login of {row.username} to {row.registry} in pull secret {row.namespace}/{row.secret_name} "
            f"expires {when} ({row.expires_on.isoformat()}): rotate it before pods fail to pull",
            {
                "cluster": row.kube_cluster.name,
                "namespace": row.namespace,
                "secret": row.secret_name,
                "registry": row.registry,
                "username": row.username,
                "expires_on": row.expires_on.isoformat(),
            },
        )
    return due


def registry_pull_secrets(*, cluster: KubeCluster, namespace: str) -> list[str]:
    """Names of the pull Secrets (both kubelet types) of `namespace`."""
    api = KubeApi(cluster)
    return sorted(
        secret.metadata.name
        for config_format in ConfigFormat
        for secret in api.list_secrets(namespace, secret_type=config_format.secret_type)
    )


@periodic(
    "registry.credentials.health",
    every=lambda: timedelta(minutes=settings.BERTH_CREDENTIAL_HEALTH_MINUTES),
    description="Test-login with every pull secret in the tenants' registry namespaces; warn of expiries",
    audit_runs=False,
)
def credential_health_run(*, progress: ProgressCallback) -> dict[str, Any]:
    """A namespace that cannot be read is skipped with its reason, not a failed run."""
    quotas = RegistryQuota.objects.all()
    places = sorted({(quota.kube_cluster_id, namespace) for quota in quotas for namespace in quota.namespace_list})
    clusters = {cluster.pk: cluster for cluster in KubeCluster.objects.all()}
    checked, skipped = 0, []
    for done, (cluster_id, namespace) in enumerate(places):
        cluster = clusters[cluster_id]
        try:
            for name in registry_pull_secrets(cluster=cluster, namespace=namespace):
                checked += len(credential_health_check(cluster=cluster, namespace=namespace, secret_name=name))
        except BerthError as error:
            skipped.append(f"{cluster.name}/{namespace}: {error.message}")
        progress(done + 1, len(places))
    warned = expiry_warnings_due()
    return {"entries": checked, "skipped": skipped, "expiry_warnings": len(warned)}


# --- What users see and set --------------------------------------------------------------------------


def _visible(actor: Actor, cluster: KubeCluster) -> QuerySet[CredentialHealth]:
    rows = CredentialHealth.objects.filter(kube_cluster=cluster).select_related("tenant")
    namespaces = registry_tenancy.registry_namespaces_for(actor=actor, cluster=cluster)
    return rows if namespaces is None else rows.filter(namespace__in=namespaces)


def credential_health_list(
    *, actor: Actor, cluster: KubeCluster, namespace: str | None = None, failing_only: bool = False
) -> list[CredentialHealth]:
    """The health records `actor` may see on `cluster` (its tenants' namespaces; all for platform admins)."""
    if namespace:
        validate_namespace(namespace)
        registry_tenancy.registry_scope(actor=actor, cluster=cluster, namespace=namespace)
    rows = _visible(actor, cluster)
    if namespace:
        rows = rows.filter(namespace=namespace)
    if failing_only:
        rows = rows.exclude(Q(last_outcome="") | Q(last_outcome=LoginOutcome.OK.value))
    return list(rows)


@audited_action("registry.credential.check", target=("cluster", "namespace", "name"))
def credential_health_check_now(
    *, actor: Actor, cluster: KubeCluster, namespace: str, name: str
) -> list[CredentialHealth]:
    """Check one pull secret now (operators: it makes Berth connect to its registries)."""
    validate_namespace(namespace)
    validate_subdomain(name, field="name")
    registry_tenancy.registry_scope(actor=actor, cluster=cluster, namespace=namespace, role=tenancy.OPERATOR)
    if KubeApi(cluster).find_secret(namespace, name) is None:
        raise NotFound(f"No secret {name} in namespace {namespace}.", code="secret_not_found", component="kubernetes")
    rows = credential_health_check(cluster=cluster, namespace=namespace, secret_name=name)
    audit_result(failing=[row.registry for row in rows if row.failing])
    return rows


@audited_action(
    "registry.credential.expiry", target=("cluster", "namespace", "name"), params=("registry", "expires_on")
)
def credential_expiry_set(
    *, actor: Actor, cluster: KubeCluster, namespace: str, name: str, registry: str, expires_on: dt.date | None
) -> CredentialHealth:
    """Record (or clear, with None) when an entry's credential expires; operators of the namespace."""
    validate_namespace(namespace)
    validate_subdomain(name, field="name")
    registry_tenancy.registry_scope(actor=actor, cluster=cluster, namespace=namespace, role=tenancy.OPERATOR)
    row = CredentialHealth.objects.filter(
        kube_cluster=cluster, namespace=namespace, secret_name=name, registry=registry
    ).first()
    if row is None:
        raise InvalidInput(
            f"Pull secret {namespace}/{name} has no checked entry for {registry}; check the secret first, "
            "then set the expiry of one of its entries.",
            code="no_such_entry",
            extra={"field": "registry"},
        )
    row.expires_on = expires_on
    row.save(update_fields=["expires_on"])
    return row
