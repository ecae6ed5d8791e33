"""Notifications: what a tenant's admins (and platform admins) should know about their pull secrets —
a credential failing, an expiry near, drift found or repaired, reconcile errors — in the app (the
banner and the notification list) and through outgoing webhooks.

`notify` is the one entry point (the credential health check and the managed-secret reconciler call
it). A webhook gets JSON with a Slack-compatible ``text``, signed: ``X-Berth-Signature:
sha256=<hex>`` is HMAC-SHA256 with the webhook's secret over ``<X-Berth-Timestamp>.<body>``, so a
receiver can check the sender and refuse replays of old bodies. Each delivery is a background task;
a failure (no 2xx answer, or none at all) is retried after `BERTH_WEBHOOK_RETRY_SECONDS`, doubling,
up to `BERTH_WEBHOOK_ATTEMPTS` attempts; every attempt's outcome is recorded on the delivery.

Webhook URLs are entered by platform admins, who choose where Berth sends; only http(s) is taken.
A URL often carries a token itself (Slack's do), so it is never audited, logged or shown again: the
API shows scheme and host. The signing secret is sealed (AES-GCM) under a key derived from Berth's
SECRET_KEY: the database alone does not reveal it; changing SECRET_KEY means entering secrets again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from dashboard.audit.services import audit_result, audited_action, record_event
from dashboard.core.actors import Actor, signed_in
from dashboard.core.errors import InvalidInput, NotFound
from dashboard.tasks.services import ProgressCallback, task_body, task_start
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Membership, Tenant
from registry.models import Notification, Webhook, WebhookDelivery

logger = logging.getLogger(__name__)

DELIVER_TASK = "registry.webhook.deliver"
_SEAL_CONTEXT = b"berth-webhook-secret"
KINDS = frozenset(kind for kind, _ in Notification.KINDS)


def notify(tenant: Tenant | None, kind: str, text: str, details: dict[str, Any] | None = None) -> Notification:
    """Record a notification for `tenant`'s admins (None: platform admins only) and queue its webhooks.
    `details` is shown and sent as it is: never put a password in it."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}; one of {sorted(KINDS)}")
    notification = Notification.objects.create(tenant=tenant, kind=kind, text=text, details=details or {})
    hooks = Webhook.objects.filter(enabled=True).filter(Q(tenant=None) | Q(tenant=tenant) if tenant else Q(tenant=None))
    for hook in hooks:
        if hook.kinds and kind not in hook.kinds:
            continue
        _queue(WebhookDelivery.objects.create(webhook=hook, notification=notification, next_attempt=timezone.now()))
    return notification


def _queue(delivery: WebhookDelivery) -> None:
    task_start(
        actor=None,
        tenant=delivery.notification.tenant,
        name=DELIVER_TASK,
        target={"webhook_delivery": delivery.pk, "attempt": delivery.attempts + 1},
        arguments={"delivery_id": delivery.pk},
        run_after=delivery.next_attempt if delivery.attempts else None,
    )


def payload(notification: Notification) -> dict[str, Any]:
    where = f"[{notification.tenant.slug}] " if notification.tenant else ""
    return {
        "text": f"Berth: {where}{notification.text}",
        "kind": notification.kind,
        "tenant": notification.tenant.slug if notification.tenant else None,
        "details": notification.details,
        "created": notification.created.isoformat(),
        "id": notification.pk,
    }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


@task_body(DELIVER_TASK, audit_runs=False)
def webhook_deliver(*, progress: ProgressCallback, delivery_id: int) -> dict[str, Any]:
    """One attempt; queues the next one after the backoff when it fails and attempts remain."""
    delivery = WebhookDelivery.objects.select_related("webhook", "notification__tenant").get(pk=delivery_id)
    if delivery.status != WebhookDelivery.PENDING:
        return {"status": delivery.status}
    hook = delivery.webhook
    body = json.dumps(payload(delivery.notification), separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    now = timezone.now()
    attempt: dict[str, Any] = {"at": now.isoformat()}
    try:
        response = requests.post(
            hook.url,
            data=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "berth-webhook",
                "X-Berth-Delivery": str(delivery.pk),
                "X-Berth-Timestamp": timestamp,
                "X-Berth-Signature": signature(_unseal(hook.sealed_secret), timestamp, body),
            },
            timeout=settings.BERTH_WEBHOOK_TIMEOUT,
            allow_redirects=False,
        )
        response.close()
        attempt["status"] = response.status_code
        delivered = 200 <= response.status_code < 300
    except requests.RequestException as error:
        attempt["error"] = type(error).__name__
        delivered = False
    delivery.attempts += 1
    if delivered:
        delivery.status, delivery.delivered, delivery.next_attempt = WebhookDelivery.DELIVERED, now, None
    elif delivery.attempts < settings.BERTH_WEBHOOK_ATTEMPTS:
        delay = settings.BERTH_WEBHOOK_RETRY_SECONDS * 2 ** (delivery.attempts - 1)
        attempt["retry_in_seconds"] = delay
        delivery.next_attempt = now + timedelta(seconds=delay)
    else:
        delivery.status, delivery.next_attempt = WebhookDelivery.FAILED, None
    delivery.attempt_log = [*delivery.attempt_log, attempt]
    delivery.save()
    if delivery.status == WebhookDelivery.PENDING:
        _queue(delivery)
    elif delivery.status == WebhookDelivery.FAILED:
        record_event(
            actor=None,
            action="registry.webhook.delivery",
            target={"webhook": hook.name, "delivery": delivery.pk},
            parameters={"attempts": delivery.attempts},
            outcome="failed",
            error=f"gave up after {delivery.attempts} attempts; last: {attempt.get('status') or attempt.get('error')}",
            tenant=delivery.notification.tenant,
        )
    return {"status": delivery.status, "attempts": delivery.attempts}


# --- The signing secret, sealed ------------------------------------------------------------------------


def _key() -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEAL_CONTEXT).derive(
        str(settings.SECRET_KEY).encode()
    )


def _seal(secret: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_key()).encrypt(nonce, secret.encode(), _SEAL_CONTEXT)


def _unseal(sealed: bytes | memoryview) -> str:
    data = bytes(sealed)
    try:
        return AESGCM(_key()).decrypt(data[:12], data[12:], _SEAL_CONTEXT).decode()
    except InvalidTag:
        raise InvalidInput(
            "The webhook's secret cannot be opened: Berth's SECRET_KEY changed since it was set. A platform "
            "admin must set the webhook again.",
            code="webhook_secret_unreadable",
        ) from None


# --- Webhooks (platform admins) -------------------------------------------------------------------------


def destination(url: str) -> str:
    """What is shown of a webhook URL: its scheme and host, never the path (which often holds a token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"


def _checked_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise InvalidInput(
            "A webhook URL must start with https:// (or http://).", code="webhook_url_scheme", extra={"field": "url"}
        )
    if not parts.hostname:
        raise InvalidInput("The webhook URL names no host.", code="webhook_url_host", extra={"field": "url"})
    return url.strip()


@audited_action("registry.webhook.create", target=("name",), params=("tenant", "kinds"))
def webhook_create(
    *, actor: Actor, name: str, url: str, secret: str, tenant: Tenant | None = None, kinds: list[str] | None = None
) -> Webhook:
    tenancy.require_platform_admin(actor, "set up webhooks")
    url = _checked_url(url)
    if len(secret) < 16:
        raise InvalidInput("The signing secret needs at least 16 characters.", code="webhook_secret_short")
    unknown = sorted(set(kinds or ()) - KINDS)
    if unknown:
        raise InvalidInput(f"Unknown notification kinds: {', '.join(unknown)}.", code="webhook_kinds")
    if Webhook.objects.filter(name=name).exists():
        raise InvalidInput(f"A webhook named {name} exists already.", code="webhook_exists", extra={"field": "name"})
    audit_result(destination=destination(url))
    return Webhook.objects.create(name=name, url=url, sealed_secret=_seal(secret), tenant=tenant, kinds=kinds or [])


def webhook_list(*, actor: Actor) -> list[Webhook]:
    tenancy.require_platform_admin(actor, "see webhooks")
    return list(Webhook.objects.select_related("tenant"))


def webhook_get(*, actor: Actor, name: str) -> Webhook:
    tenancy.require_platform_admin(actor, "see webhooks")
    try:
        return Webhook.objects.get(name=name)
    except Webhook.DoesNotExist:
        raise NotFound(f"No webhook {name}.", code="webhook_not_found") from None


@audited_action("registry.webhook.delete", target=("name",))
def webhook_delete(*, actor: Actor, name: str) -> None:
    webhook_get(actor=actor, name=name).delete()


def webhook_deliveries(*, actor: Actor, name: str, limit: int = 50) -> list[WebhookDelivery]:
    return list(webhook_get(actor=actor, name=name).deliveries.select_related("notification")[:limit])


# --- Notifications in the app --------------------------------------------------------------------------


def _visible(actor: Actor) -> QuerySet[Notification]:
    """Platform admins see every notification; a tenant's admins those of their tenants."""
    if tenancy.is_platform_admin(actor):
        return Notification.objects.all()
    if not signed_in(actor):
        return Notification.objects.none()
    administered = Membership.objects.filter(user=actor, role=tenancy.ADMIN).values("tenant")
    return Notification.objects.filter(tenant__in=administered)


def notification_list(*, actor: Actor, include_dismissed: bool = False, limit: int = 100) -> list[Notification]:
    rows = _visible(actor).select_related("tenant")
    if not include_dismissed:
        rows = rows.filter(dismissed=None)
    return list(rows[:limit])


def notification_banner_count(*, actor: Actor) -> int:
    return _visible(actor).filter(dismissed=None).count()


@audited_action("registry.notification.dismiss", target=("notification_id",))
def notification_dismiss(*, actor: Actor, notification_id: int | str) -> Notification:
    """Hide it from the banner for everyone who sees it (it stays in the list)."""
    key = str(notification_id)
    notification = _visible(actor).filter(pk=int(key)).first() if key.isdigit() else None
    if notification is None:
        raise NotFound(f"No notification {notification_id}.", code="notification_not_found")
    notification.dismissed, notification.dismissed_by = timezone.now(), actor if signed_in(actor) else None
    notification.save(update_fields=["dismissed", "dismissed_by"])
    return notification
