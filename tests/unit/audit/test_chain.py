"""The audit log's hash chain: append-only, verifiable, and prunable without losing verifiability."""

import datetime as dt
import hashlib
import json

import pytest
from django.core.management import call_command
from django.db import connection

from dashboard.audit.models import AuditChainHead, AuditEvent, AuditLogIsAppendOnly, audit_keys, chain_hash, head_mac
from dashboard.audit.services import PRUNE_ACTION, audited_action, record_event, verify_chain
from dashboard.core.context import change_context
from dashboard.core.errors import PermissionDenied

pytestmark = [pytest.mark.unit, pytest.mark.django_db]


def _record(n: int, **overrides) -> list[AuditEvent]:
    for index in range(n):
        record_event(
            actor=None,
            action=overrides.get("action", "test.thing.create"),
            target={"thing": f"t{index}"},
            parameters={"size": index},
            outcome="success",
        )
    return list(AuditEvent.objects.order_by("id"))


def _age(event_ids, days: int) -> None:
    """Move events into the past behind the model's back, then re-chain them with the key, as if written then."""
    key = audit_keys()[0]
    previous = ""
    with connection.cursor() as cursor:
        for event in AuditEvent.objects.order_by("id"):
            if event.pk in event_ids:
                event.time -= dt.timedelta(days=days)
            event.prev_hash = previous
            event.hash = chain_hash(event, key)
            cursor.execute(
                "UPDATE dashboard_auditevent SET time = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [event.time, event.prev_hash, event.hash, event.pk],
            )
            previous = event.hash
    head = AuditChainHead.objects.get(pk=AuditChainHead.ROW_ID)
    head.last_hash = previous
    head.mac = head_mac(head, key)
    head.save()


def test_each_event_links_to_the_one_before():
    events = _record(3)
    assert events[0].prev_hash == ""
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert verify_chain().intact and verify_chain().events == 3


def test_a_row_altered_in_the_database_is_reported(capsys):
    events = _record(4)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE dashboard_auditevent SET parameters = %s WHERE id = %s", [json.dumps({"size": 999}), events[2].pk]
        )
    report = verify_chain()
    assert report.broken_event_id == events[2].pk
    assert "does not match its hash" in report.problem
    with pytest.raises(SystemExit) as exited:
        call_command("verify_audit")
    assert exited.value.code == 1
    assert f"broken at event {events[2].pk}" in capsys.readouterr().err


def test_a_row_deleted_in_the_middle_is_reported():
    events = _record(4)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM dashboard_auditevent WHERE id = %s", [events[1].pk])
    report = verify_chain()
    assert report.broken_event_id == events[2].pk
    assert "prev_hash" in report.problem


def test_rows_deleted_from_either_end_are_reported():
    events = _record(3)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM dashboard_auditevent WHERE id = %s", [events[-1].pk])
    assert "head" in verify_chain().problem
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM dashboard_auditevent WHERE id = %s", [events[0].pk])
    assert "no prune event vouches" in verify_chain().problem


def test_an_intact_chain_verifies_with_exit_zero(capsys):
    _record(5)
    call_command("verify_audit")
    assert "5 events verified" in capsys.readouterr().out


def test_events_cannot_be_changed_or_deleted_through_the_orm():
    event = _record(1)[0]
    event.error = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.update(outcome="failed")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.create(action="x", source="cli", outcome="success", actor_name="x")
    assert AuditEvent.objects.get().error == ""


def test_deleting_a_user_keeps_their_events_verifiable(admin_user):
    record_event(actor=admin_user, action="test.thing.create", target={}, parameters={}, outcome="success")
    admin_user.delete()
    event = AuditEvent.objects.get()
    assert (event.actor_id, event.actor_name) == (None, "platform-admin")
    assert verify_chain().intact


def test_prune_archives_deletes_and_stays_verifiable(tmp_path, capsys):
    events = _record(5)
    _age({events[0].pk, events[1].pk, events[2].pk}, days=400)
    archive = tmp_path / "archive.jsonl"
    before = (dt.datetime.now(dt.UTC) - dt.timedelta(days=30)).date()

    call_command("prune_audit", "--before", before.isoformat(), "--archive", str(archive))

    archived = [json.loads(line) for line in archive.read_text().splitlines()]
    assert [row["id"] for row in archived] == [e.pk for e in events[:3]]
    remaining = list(AuditEvent.objects.order_by("id"))
    assert [e.pk for e in remaining[:2]] == [events[3].pk, events[4].pk]
    prune = remaining[-1]
    assert prune.action == PRUNE_ACTION
    assert prune.parameters["archive_sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert prune.parameters["last_pruned_hash"] == remaining[0].prev_hash == archived[-1]["hash"]
    assert verify_chain().intact
    call_command("verify_audit")
    assert "3 events verified" in capsys.readouterr().out


def test_pruning_everything_leaves_the_prune_event_vouching_for_itself(tmp_path):
    events = _record(2)
    _age({e.pk for e in events}, days=10)
    call_command("prune_audit", "--before", dt.date.today().isoformat(), "--archive", str(tmp_path / "a.jsonl"))
    assert list(AuditEvent.objects.values_list("action", flat=True)) == [PRUNE_ACTION]
    assert verify_chain().intact


def test_an_existing_archive_is_never_overwritten(tmp_path):
    events = _record(1)
    _age({events[0].pk}, days=10)
    archive = tmp_path / "a.jsonl"
    archive.write_text("keep me\n")
    with pytest.raises(Exception, match="exists already"):
        call_command("prune_audit", "--before", dt.date.today().isoformat(), "--archive", str(archive))
    assert archive.read_text() == "keep me\n"
    assert AuditEvent.objects.count() == 1


_secret_service_calls = []


@audited_action("test.secret.rotate", target=("namespace", "name"), params=("labels",))
def _rotate_secret(*, actor, namespace, name, labels, password, refuse=False):
    _secret_service_calls.append(name)
    if refuse:
        raise PermissionDenied("Only tenant admins may rotate secrets.")


def test_the_decorator_records_outcome_context_and_only_allow_listed_parameters(admin_user):
    with change_context(source="api", request_id="req-12345678", client_ip="::ffff:10.0.0.1"):
        _rotate_secret(actor=admin_user, namespace="team-a", name="pull", labels={"a": "b"}, password="hunter2")
        with pytest.raises(PermissionDenied):
            _rotate_secret(
                actor=admin_user, namespace="team-a", name="pull", labels={}, password="hunter2", refuse=True
            )
    success, denied = AuditEvent.objects.order_by("id")
    assert (success.outcome, denied.outcome) == ("success", "denied")
    assert success.target == {"namespace": "team-a", "name": "pull"}
    assert success.parameters == {"labels": {"a": "b"}}
    assert "hunter2" not in json.dumps([success.parameters, success.target, denied.parameters, denied.error])
    assert denied.error == "Only tenant admins may rotate secrets."
    assert (success.source, success.request_id, success.actor_name) == ("api", "req-12345678", "platform-admin")
    assert verify_chain().intact, "a normalised IPv6 address must hash the same after reading it back"


def test_tenant_is_kept_as_a_slug():
    class Tenant:
        slug = "acme"

    record_event(actor=None, action="test.thing.create", target={}, parameters={}, outcome="success", tenant=Tenant())
    record_event(actor=None, action="test.thing.create", target={}, parameters={}, outcome="success", tenant="beta")
    assert list(AuditEvent.objects.order_by("id").values_list("tenant_slug", flat=True)) == ["acme", "beta"]
