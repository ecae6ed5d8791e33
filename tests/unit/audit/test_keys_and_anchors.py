"""The audit chain's key (hmac-sha256, kept outside the database), its rotation, the continuation of
chains written before it had a key, the signed chain head, and anchors kept outside the database."""

import hashlib
import hmac
import json
import stat

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from dashboard.audit.checks import audit_key_check
from dashboard.audit.models import (
    HEAD_RESTORED_ACTION,
    REKEY_ACTION,
    AuditChainHead,
    AuditEvent,
    audit_keys,
    chain_hash,
    head_mac,
    key_id,
)
from dashboard.audit.services import PRUNE_ACTION, record_event, verify_chain
from dashboard.core.env import env_secrets, generated_secret_file
from tests.unit.audit.test_chain import _age, _record

pytestmark = [pytest.mark.unit, pytest.mark.django_db]

NEW_KEY = "a-new-audit-key-after-rotation-0123456789"


def _actions() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


def _verify(capsys, *options: str) -> tuple[int, str]:
    try:
        call_command("verify_audit", *options)
    except SystemExit as exited:
        return exited.code, capsys.readouterr().err
    return 0, capsys.readouterr().out


def test_events_are_hmacs_with_the_configured_key(settings):
    event = _record(1)[0]
    canonical_sha256 = chain_hash(event, None)
    assert event.hash == chain_hash(event, audit_keys()[0]) != canonical_sha256
    assert len(event.hash) == 64

    settings.BERTH_AUDIT_KEYS = ["some-other-key-that-never-wrote-this-log-0123"]
    report = verify_chain()
    assert not report.intact
    assert "neither plain sha256 nor with any configured audit key" in report.problem


def test_a_forged_head_is_reported_and_the_next_event_records_it(capsys):
    events = _record(4)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM dashboard_auditevent WHERE id = %s", [events[-1].pk])
        cursor.execute(
            "UPDATE dashboard_auditchainhead SET last_hash = %s, last_event_id = %s", [events[2].hash, events[2].pk]
        )
    code, output = _verify(capsys)
    assert code == 1 and "signature does not match" in output

    record_event(actor=None, action="test.thing.create", target={}, parameters={}, outcome="success")
    restored = AuditEvent.objects.get(action=HEAD_RESTORED_ACTION)
    assert restored.parameters["found_head"] == {
        "last_event_id": events[2].pk,
        "last_hash": events[2].hash,
        "signed": False,
    }
    assert restored.prev_hash == events[2].hash, "the chain goes on from the newest event there is"
    report = verify_chain()
    assert report.broken_event_id == restored.pk
    assert "chain head did not fit the log" in report.problem


def test_non_ascii_planted_in_hashes_is_reported_not_a_crash():
    events = _record(2)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE dashboard_auditchainhead SET mac = %s", ["é" * 64])
    assert "signature does not match" in verify_chain().problem
    record_event(actor=None, action="test.thing.create", target={}, parameters={}, outcome="success")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE dashboard_auditevent SET hash = %s WHERE id = %s", ["é" * 64, events[0].pk])
    assert verify_chain().broken_event_id == events[0].pk


def test_events_cut_off_under_an_untouched_head_stay_reported_after_the_next_event():
    events = _record(4)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM dashboard_auditevent WHERE id >= %s", [events[2].pk])
    assert "events removed from the end" in verify_chain().problem

    record_event(actor=None, action="test.thing.create", target={}, parameters={}, outcome="success")
    restored = AuditEvent.objects.get(action=HEAD_RESTORED_ACTION)
    assert restored.parameters["found_head"]["signed"] is True
    assert restored.parameters["continued_after_event_id"] == events[1].pk
    assert verify_chain().broken_event_id == restored.pk


def test_rotation_records_the_switch_and_keeps_older_events_verifiable(settings, capsys):
    old_key = audit_keys()[0]
    _record(2)
    settings.BERTH_AUDIT_KEYS = [NEW_KEY, old_key]

    code, output = _verify(capsys)
    assert code == 1 and f"retired audit key {key_id(old_key)}" in output and "rekey_audit" in output

    call_command("rekey_audit")
    assert "now continues with the current key" in capsys.readouterr().out
    call_command("rekey_audit")
    assert "nothing to do" in capsys.readouterr().out
    record_event(actor=None, action="test.thing.create", target={}, parameters={}, outcome="success")

    assert _actions() == ["test.thing.create"] * 2 + [REKEY_ACTION, "test.thing.create"]
    rekey = AuditEvent.objects.get(action=REKEY_ACTION)
    assert rekey.parameters == {"key_id": key_id(NEW_KEY), "previous_key_id": key_id(old_key)}
    assert old_key not in json.dumps(rekey.parameters) and NEW_KEY not in json.dumps(rekey.parameters)
    assert rekey.hash == chain_hash(rekey, NEW_KEY)
    assert verify_chain().intact

    # Events written with a key that is no longer configured cannot be verified.
    settings.BERTH_AUDIT_KEYS = [NEW_KEY]
    report = verify_chain()
    assert not report.intact and report.broken_event_id == AuditEvent.objects.order_by("id").first().pk


def test_the_next_change_after_a_rotation_records_the_switch_by_itself(settings):
    old_key = audit_keys()[0]
    _record(1)
    settings.BERTH_AUDIT_KEYS = [NEW_KEY, old_key]
    _record(1)
    assert _actions() == ["test.thing.create", REKEY_ACTION, "test.thing.create"]
    assert verify_chain().intact


def _as_before_the_key(events: list[AuditEvent]) -> None:
    """Rewrite the events as plain sha256, and the head as migration audit 0002 leaves such a chain."""
    previous = ""
    with connection.cursor() as cursor:
        for event in events:
            event.prev_hash = previous
            event.hash = chain_hash(event, None)
            cursor.execute(
                "UPDATE dashboard_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
                [event.prev_hash, event.hash, event.pk],
            )
            previous = event.hash
    head = AuditChainHead.objects.get()
    head.last_hash, head.key_id = previous, ""
    head.mac = head_mac(head, audit_keys()[0])
    head.save()


def test_a_chain_from_before_the_key_verifies_and_continues_keyed():
    _as_before_the_key(_record(3))
    report = verify_chain()
    assert (report.intact, report.events, report.unkeyed_events) == (True, 3, 3)

    record_event(actor=None, action="test.thing.create", target={}, parameters={}, outcome="success")
    assert _actions()[3:] == [REKEY_ACTION, "test.thing.create"]
    assert AuditEvent.objects.get(action=REKEY_ACTION).parameters["previous_key_id"] == ""
    report = verify_chain()
    assert (report.intact, report.events, report.unkeyed_events) == (True, 5, 3)


def test_plain_sha256_after_keyed_events_is_reported():
    events = _record(3)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE dashboard_auditevent SET hash = %s WHERE id = %s", [chain_hash(events[2], None), events[2].pk]
        )
    report = verify_chain()
    assert report.broken_event_id == events[2].pk and "does not match its hash" in report.problem


def test_anchors_are_appended_and_checked(tmp_path, capsys):
    anchors = tmp_path / "off-site" / "anchors.jsonl"
    events = _record(3)
    assert _verify(capsys, "--anchor", str(anchors))[0] == 0
    _record(2)
    code, output = _verify(capsys, "--against", str(anchors), "--anchor", str(anchors))
    assert code == 0 and "consistent with the anchor" in output

    first, second = (json.loads(line) for line in anchors.read_text().splitlines())
    assert first["head_event_id"] == events[-1].pk and first["head_hash"] == events[-1].hash
    assert (first["events"], second["events"]) == (3, 5)
    assert set(first) == {"time", "head_event_id", "head_hash", "events"}


def test_a_log_rebuilt_with_the_key_is_caught_by_the_anchor(tmp_path, capsys):
    anchors = tmp_path / "anchors.jsonl"
    events = _record(3)
    assert _verify(capsys, "--anchor", str(anchors))[0] == 0
    _age({events[0].pk}, days=3)  # rewrites the chain with the key, as someone holding it could
    assert _verify(capsys)[0] == 0
    code, output = _verify(capsys, "--against", str(anchors))
    assert code == 1 and f"event {events[-1].pk} no longer has the hash the anchor" in output


def test_pruning_after_an_anchor_is_accounted_for(tmp_path, capsys):
    anchors = tmp_path / "anchors.jsonl"
    events = _record(4)
    _age({events[0].pk, events[1].pk}, days=10)
    assert _verify(capsys, "--anchor", str(anchors))[0] == 0
    before = (events[2].time.date()).isoformat()
    call_command("prune_audit", "--before", before, "--archive", str(tmp_path / "a.jsonl"), "--anchor", str(anchors))
    assert "Anchored event" in capsys.readouterr().out
    prune_anchor = json.loads(anchors.read_text().splitlines()[-1])
    prune = AuditEvent.objects.get(action=PRUNE_ACTION)
    assert (prune_anchor["head_event_id"], prune_anchor["events"]) == (prune.pk, 3)

    # The older anchor still holds: its head is there and the two events before it were pruned.
    older = anchors.read_text().splitlines()[0]
    (tmp_path / "older.jsonl").write_text(older + "\n")
    assert _verify(capsys, "--against", str(tmp_path / "older.jsonl"))[0] == 0
    assert _verify(capsys, "--against", str(anchors))[0] == 0


def test_pruning_the_anchored_event_itself_is_accounted_for(tmp_path, capsys):
    anchors = tmp_path / "anchors.jsonl"
    events = _record(2)
    _age({e.pk for e in events}, days=10)
    assert _verify(capsys, "--anchor", str(anchors))[0] == 0
    call_command("prune_audit", "--before", events[0].time.date().isoformat(), "--archive", str(tmp_path / "a"))
    assert _verify(capsys, "--against", str(anchors))[0] == 0
    call_command("prune_audit", "--before", "2999-01-01", "--archive", str(tmp_path / "b"))
    assert AuditEvent.objects.filter(pk=events[-1].pk).count() == 0
    assert _verify(capsys, "--against", str(anchors))[0] == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot be read"), ("", "holds no anchor"), ('{"time": "x"}\n', "not an anchor written by Berth")],
)
def test_an_unusable_anchor_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "anchors.jsonl"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("verify_audit", "--against", str(path))


def test_the_key_check_refuses_a_missing_or_short_key(settings):
    settings.BERTH_AUDIT_KEYS = []
    (error,) = audit_key_check(None)
    assert error.id == "audit.E001" and "BERTH_AUDIT_KEY_FILE" in error.hint
    settings.BERTH_AUDIT_KEYS = ["short", "x" * 40]
    assert [e.id for e in audit_key_check(None)] == ["audit.E002"]
    settings.BERTH_AUDIT_KEYS = ["x" * 40, "short"]
    assert audit_key_check(None) == []


def test_keys_come_from_the_environment_or_a_file(tmp_path, monkeypatch):
    monkeypatch.delenv("BERTH_AUDIT_KEY", raising=False)
    assert env_secrets("BERTH_AUDIT_KEY") == []
    key_file = tmp_path / "audit-key"
    key_file.write_text("# rotated 2026-11\nnew-key\n\nold-key\n")
    monkeypatch.setenv("BERTH_AUDIT_KEY_FILE", str(key_file))
    assert env_secrets("BERTH_AUDIT_KEY") == ["new-key", "old-key"]
    monkeypatch.setenv("BERTH_AUDIT_KEY", "env-new,env-old")
    assert env_secrets("BERTH_AUDIT_KEY") == ["env-new", "env-old"]
    monkeypatch.delenv("BERTH_AUDIT_KEY")
    monkeypatch.setenv("BERTH_AUDIT_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(Exception, match=r"BERTH_AUDIT_KEY_FILE=.*missing cannot be read"):
        env_secrets("BERTH_AUDIT_KEY")


def test_debug_runs_generate_a_private_key_file_once(tmp_path):
    path = tmp_path / "var" / "audit-key"
    key = generated_secret_file(path)
    assert len(key) >= 64 and generated_secret_file(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["audit-key"]
    assert key_id(key) == hmac.new(key.encode(), b"berth audit key id", hashlib.sha256).hexdigest()[:16]
