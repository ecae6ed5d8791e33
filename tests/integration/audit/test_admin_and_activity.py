"""The audit log as operators see it: the read-only admin with exports, the Activity page, admin
and command changes recorded, and the request id shared between events and log lines."""

import io
import json
import logging

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from dashboard.audit.models import AuditEvent
from dashboard.audit.services import record_event, verify_chain
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import ApiToken, PlatformRole
from dashboard.tenancy.tokens import api_token_create
from storage.models import CephCluster
from tests.fixtures.berth import TEST_PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def _event(action="storage.image.create", outcome="success", **extra):
    record_event(
        actor=None,
        action=action,
        target={"pool": "rbd", "image": "vm1"},
        parameters={"size": 1024},
        outcome=outcome,
        **extra,
    )
    return AuditEvent.objects.order_by("-id").first()


def _body(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_the_admin_is_read_only_even_for_superusers(admin_client):
    event = _event()
    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert (
        admin_client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )
    detail = admin_client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert detail.status_code == 200
    content = detail.content.decode()
    assert 'name="_save"' not in content
    assert "&quot;size&quot;: 1024" in content, "parameters are pretty-printed JSON"
    assert (
        admin_client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"error": "rewritten"}).status_code
        == 403
    )
    assert AuditEvent.objects.get(pk=event.pk).error == ""


def test_the_admin_list_filters_and_exports_what_it_shows(admin_client):
    _event(outcome="success")
    denied = _event(action="storage.image.delete", outcome="denied", error="")
    changelist = reverse("admin:audit_auditevent_changelist")
    listing = admin_client.get(changelist, {"outcome": "denied"}).content.decode()
    assert "storage.image.delete" in listing and "Export JSON Lines" in listing
    assert f"{reverse('admin:audit_auditevent_export_csv')}?outcome=denied" in listing

    jsonl = _body(admin_client.get(reverse("admin:audit_auditevent_export_jsonl"), {"outcome": "denied"}))
    rows = [json.loads(line) for line in jsonl.splitlines()]
    assert [row["id"] for row in rows] == [denied.pk]
    assert rows[0]["hash"] == denied.hash

    csv_text = _body(admin_client.get(reverse("admin:audit_auditevent_export_csv"), {"q": "storage.image"}))
    lines = csv_text.splitlines()
    assert lines[0].startswith("id,time,actor_name") and len(lines) == 3


def test_admin_changes_are_recorded_with_field_names_only(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:storage_cephcluster_add"),
        {
            "name": "east",
            "client_name": "client.berth",
            "conf_path": "/etc/ceph/ceph.conf",
            "keyring_path": "/etc/ceph/secret.keyring",
            "mon_host": "",
            "key_path": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    cluster = CephCluster.objects.get(name="east")
    admin_client.post(reverse("admin:storage_cephcluster_delete", args=[cluster.pk]), {"post": "yes"})

    created, deleted = AuditEvent.objects.order_by("id")
    assert (created.action, created.source, created.actor_name) == (
        "admin.storage.cephcluster.create",
        "admin",
        admin_user.username,
    )
    assert created.target == {"model": "storage.cephcluster", "id": cluster.pk, "name": "east"}
    assert "keyring_path" in created.parameters["fields"]
    assert "secret.keyring" not in json.dumps(created.parameters)
    assert deleted.action == "admin.storage.cephcluster.delete"
    assert verify_chain().intact


def test_api_tokens_revoked_in_the_admin_are_recorded_without_the_key(admin_client, admin_user):
    token, key = api_token_create(actor=admin_user, name="ci")
    response = admin_client.post(reverse("admin:tenancy_apitoken_delete", args=[token.pk]), {"post": "yes"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="admin.tenancy.apitoken.delete")
    assert event.target == {"model": "tenancy.apitoken", "id": str(token.pk), "name": str(token)}
    assert key not in json.dumps([event.target, event.parameters])
    assert not ApiToken.objects.exists()


def test_management_commands_record_their_changes_as_cli(tmp_path):
    call_command("create_first_admin", "--username", "root-admin", stdout=io.StringIO())
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\n")
    call_command("register_kube_cluster", "k1", "--kubeconfig", str(kubeconfig), stdout=io.StringIO())
    call_command(
        "register_ceph_cluster", "c1", "--conf", "/etc/ceph/ceph.conf", "--keyring", "/k", stdout=io.StringIO()
    )
    assert tenancy.is_platform_admin(User.objects.get(username="root-admin"))
    assert PlatformRole.objects.get(user__username="root-admin").role == PlatformRole.PLATFORM_ADMIN
    events = list(AuditEvent.objects.order_by("id").values_list("action", "source", "actor_name", "outcome"))
    assert events == [
        ("auth.user.create_first_admin", "cli", "system", "success"),
        ("registry.cluster.register", "cli", "system", "success"),
        ("storage.cluster.register", "cli", "system", "success"),
    ]


def test_a_password_change_is_recorded_without_the_password(admin_client, admin_user):
    response = admin_client.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "a-new-long-passphrase-42",
            "new_password2": "a-new-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get()
    assert (event.action, event.target, event.source) == (
        "auth.user.password.change",
        {"user": admin_user.username},
        "ui",
    )
    assert "passphrase" not in json.dumps(event.parameters)


def test_the_activity_page_is_for_platform_admins_and_filters_with_htmx(admin_client):
    _event(outcome="success")
    _event(action="storage.image.delete", outcome="denied")
    viewer = Client()
    viewer.force_login(get_user_model().objects.create_user("viewer", password=TEST_PASSWORD))
    assert viewer.get(reverse("activity")).status_code == 403

    page = admin_client.get(reverse("activity"))
    assert page.status_code == 200 and "<form" in page.content.decode()
    fragment = admin_client.get(reverse("activity"), {"outcome": "denied"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<form" not in fragment and 'id="activity-table"' in fragment
    assert "storage.image.delete" in fragment and "storage.image.create" not in fragment


def test_the_activity_page_paginates(admin_client):
    for _ in range(55):
        _event()
    first = admin_client.get(reverse("activity")).content.decode()
    assert "1–50 of 55" in first and "page=2" in first
    assert "51–55 of 55" in admin_client.get(reverse("activity"), {"page": 2}).content.decode()


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


def test_a_log_line_during_a_request_carries_the_events_request_id(admin_client):
    from dashboard.core.middleware import RequestIdLogFilter

    # Installed as settings.LOGGING installs the console handler: the filter stamps each record when it is emitted.
    handler = _Collect()
    handler.addFilter(RequestIdLogFilter())
    logging.getLogger().addHandler(handler)
    try:
        response = admin_client.post(
            reverse("password_change"),
            {
                "old_password": TEST_PASSWORD,
                "new_password1": "a-new-long-passphrase-42",
                "new_password2": "a-new-long-passphrase-42",
            },
        )
    finally:
        logging.getLogger().removeHandler(handler)
    event = AuditEvent.objects.get()
    assert event.request_id == response["X-Request-ID"] != "-"
    audit_lines = [r for r in handler.records if r.name == "dashboard.audit.services"]
    assert [r.request_id for r in audit_lines] == [event.request_id]
    assert f"audit event {event.pk}" in audit_lines[0].getMessage()
