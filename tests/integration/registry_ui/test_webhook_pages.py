"""The webhook pages: a platform admin sets one up, sees its deliveries to a real HTTP receiver (made by
the real task worker) and deletes it; nobody else gets the pages or the changes. Neither the signing
secret nor the token in the URL's path is ever written into a page, not even a form shown again."""

from collections.abc import Iterator

import pytest
from django.urls import reverse

from dashboard.audit.models import AuditEvent
from dashboard.tenancy.models import Membership, Tenant
from registry.models import Notification, Webhook
from registry.services.notifications import notify, webhook_create
from tests.integration.registry.test_webhooks import SIGNING_SECRET, Receiver, receiving, settled

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TOKEN = "berth-token-in-path"  # the receiver's URL path


def form(url: str, **extra) -> dict:
    return {"name": "ops-chat", "url": url, "secret": SIGNING_SECRET, "tenant": "", **extra}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as state:
        yield state


def shows_no_secret(response) -> bool:
    text = response.content.decode()
    return SIGNING_SECRET not in text and TOKEN not in text


def test_a_platform_admin_sets_up_a_webhook_sees_its_deliveries_and_deletes_it(admin_client, receiver: Receiver):
    Tenant.objects.create(name="Team W", slug="team-w")
    listed = admin_client.get(reverse("registry:webhook-list"))
    assert listed.status_code == 200 and b'data-testid="empty-state"' in listed.content
    for linking in ("registry:notifications", "registry:managed-list"):
        assert reverse("registry:webhook-list") in admin_client.get(reverse(linking)).content.decode(), linking
    page = admin_client.get(reverse("registry:webhook-create")).content.decode()
    assert 'value="team-w"' in page and 'value="credential_failing"' in page

    not_http = admin_client.post(reverse("registry:webhook-create"), form(f"ftp://{TOKEN}.example.com/{TOKEN}"))
    assert not_http.status_code == 400 and "must start with https://" in not_http.content.decode()
    assert shows_no_secret(not_http)
    too_short = admin_client.post(reverse("registry:webhook-create"), form(receiver.url, secret="short"))
    assert too_short.status_code == 400 and shows_no_secret(too_short)

    created = admin_client.post(reverse("registry:webhook-create"), form(receiver.url, kinds=["drift_found"]))
    assert created.status_code == 302 and created["Location"] == reverse("registry:webhook-detail", args=["ops-chat"])
    hook = Webhook.objects.get()
    assert hook.url == receiver.url and hook.kinds == ["drift_found"] and hook.tenant is None
    events = AuditEvent.objects.filter(action="registry.webhook.create")
    assert sorted(events.values_list("outcome", flat=True)) == ["failed", "success"]
    assert all(TOKEN not in f"{e.parameters} {e.target} {e.error}" for e in events)

    taken = admin_client.post(reverse("registry:webhook-create"), form(receiver.url))
    assert taken.status_code == 400 and "exists already" in taken.content.decode() and shows_no_secret(taken)

    notify(None, Notification.DRIFT_FOUND, "copy in team-a differs", {})
    [delivery] = settled(1)
    assert delivery.status == "delivered" and receiver.verified(*receiver.requests[0])

    detail = admin_client.get(reverse("registry:webhook-detail", args=["ops-chat"]))
    text = detail.content.decode()
    host = receiver.url.split("/hooks")[0]
    assert detail.status_code == 200 and f"{host}/…" in text and shows_no_secret(detail)
    assert 'data-status="delivered"' in text and "HTTP 200" in text and "copy in team-a differs" in text
    listed = admin_client.get(reverse("registry:webhook-list"))
    assert 'data-name="ops-chat"' in listed.content.decode() and shows_no_secret(listed)

    confirm = admin_client.get(reverse("registry:webhook-delete", args=["ops-chat"]))
    assert confirm.status_code == 200 and b'data-testid="confirm-warning"' in confirm.content
    assert shows_no_secret(confirm)
    deleted = admin_client.post(reverse("registry:webhook-delete", args=["ops-chat"]), {}, follow=True)
    assert deleted.redirect_chain[-1][0] == reverse("registry:webhook-list")
    assert "Webhook ops-chat deleted." in deleted.content.decode()
    assert not Webhook.objects.exists()
    assert AuditEvent.objects.filter(action="registry.webhook.delete", outcome="success").count() == 1


def test_tenant_admins_get_neither_the_pages_nor_the_changes(client, admin_user, django_user_model):
    tenant_admin = django_user_model.objects.create_user("t-admin", password="pw-not-used-0")
    Membership.objects.create(user=tenant_admin, tenant=Tenant.objects.create(name="T", slug="t"), role="admin")
    webhook_create(actor=admin_user, name="ops-chat", url=f"https://hooks.example.com/{TOKEN}", secret=SIGNING_SECRET)
    client.force_login(tenant_admin)

    for url in (
        reverse("registry:webhook-list"),
        reverse("registry:webhook-create"),
        reverse("registry:webhook-detail", args=["ops-chat"]),
        reverse("registry:webhook-delete", args=["ops-chat"]),
    ):
        refused = client.get(url)
        assert refused.status_code == 403 and shows_no_secret(refused), url
    for linking in ("registry:notifications", "registry:managed-list"):
        assert reverse("registry:webhook-list") not in client.get(reverse(linking)).content.decode(), linking

    create = client.post(reverse("registry:webhook-create"), form("https://elsewhere.example.com/x", name="mine"))
    delete = client.post(reverse("registry:webhook-delete", args=["ops-chat"]), {})
    assert (create.status_code, delete.status_code) == (403, 403)
    assert list(Webhook.objects.values_list("name", flat=True)) == ["ops-chat"]
