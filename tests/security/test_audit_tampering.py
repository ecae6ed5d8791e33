"""Someone with write access to Berth's database (but not the audit key, which lives outside it)
tries to rewrite or cut off the audit log without `verify_audit` noticing; and, with an anchor kept
elsewhere, someone who rolls the log back to an earlier state.

The attacker knows the code, so they recompute plain sha256 hashes the way the chain used to be built."""

import datetime as dt
import hashlib
import json

import pytest
from django.core.management import call_command
from django.db import connection

from dashboard.audit.models import AuditEvent
from dashboard.audit.services import record_event

pytestmark = [pytest.mark.unit, pytest.mark.django_db]

HASHED_FIELDS = (
    "time",
    "actor_name",
    "tenant_slug",
    "source",
    "action",
    "target",
    "parameters",
    "outcome",
    "error",
    "duration_ms",
    "client_ip",
    "request_id",
    "prev_hash",
)


def _plain_sha256(event) -> str:
    content = {name: getattr(event, name) for name in HASHED_FIELDS}
    content["time"] = event.time.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _record(n: int) -> list[AuditEvent]:
    for index in range(n):
        record_event(
            actor=None, action="storage.image.delete", target={"image": f"i{index}"}, parameters={}, outcome="success"
        )
    return list(AuditEvent.objects.order_by("id"))


def _verify(capsys, *options: str) -> tuple[int, str]:
    try:
        call_command("verify_audit", *options)
    except SystemExit as exited:
        return exited.code, capsys.readouterr().err
    return 0, capsys.readouterr().out


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_rewriting_an_event_and_rehashing_the_rest_of_the_chain_is_detected(capsys):
    events = _record(5)

    # Hide who deleted image i2, then rebuild every later link so the chain looks whole again.
    previous = events[1].hash
    for event in events[2:]:
        if event.pk == events[2].pk:
            event.actor_name = "someone-else"
        event.prev_hash = previous
        event.hash = _plain_sha256(event)
        _sql(
            "UPDATE dashboard_auditevent SET actor_name = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [event.actor_name, event.prev_hash, event.hash, event.pk],
        )
        previous = event.hash
    _sql("UPDATE dashboard_auditchainhead SET last_hash = %s", [previous])

    code, output = _verify(capsys)
    assert code == 1, output
    assert f"broken at event {events[2].pk}" in output


def test_deleting_the_newest_events_and_the_chain_head_is_detected(capsys):
    events = _record(6)

    _sql("DELETE FROM dashboard_auditevent WHERE id >= %s", [events[3].pk])
    _sql("DELETE FROM dashboard_auditchainhead")

    code, output = _verify(capsys)
    assert code == 1, output
    assert "head" in output

    # Berth goes on recording; that must not paper over the cut.
    record_event(actor=None, action="storage.image.create", target={"image": "next"}, parameters={}, outcome="success")
    code, output = _verify(capsys)
    assert code == 1, output
    assert "head" in output


def test_rolling_the_log_back_to_an_earlier_state_is_caught_by_the_anchor(capsys, tmp_path):
    anchors = tmp_path / "anchors.jsonl"
    events = _record(3)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM dashboard_auditchainhead")
        columns = [column[0] for column in cursor.description]
        old_head = dict(zip(columns, cursor.fetchone(), strict=True))
    _record(3)
    assert _verify(capsys, "--anchor", str(anchors))[0] == 0

    # Delete what happened since the old head was copied, and put the old (validly signed) head back.
    _sql("DELETE FROM dashboard_auditevent WHERE id > %s", [events[-1].pk])
    _sql("DELETE FROM dashboard_auditchainhead")
    _sql(
        f"INSERT INTO dashboard_auditchainhead ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
        list(old_head.values()),
    )

    code, output = _verify(capsys, "--against", str(anchors))
    assert code == 1, output
    assert "anchor" in output

    # Deleting everything leaves nothing to verify; the anchor still says there was something.
    _sql("DELETE FROM dashboard_auditevent")
    _sql("DELETE FROM dashboard_auditchainhead")
    code, output = _verify(capsys, "--against", str(anchors))
    assert code == 1, output
    assert "anchor" in output
