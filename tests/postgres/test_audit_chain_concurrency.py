"""Concurrent writers on PostgreSQL append to one chain; they never fork it."""

import threading

import pytest
from django.db import connection, transaction

from dashboard.audit.models import REKEY_ACTION, AuditEvent
from dashboard.audit.services import record_event, verify_chain

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WRITERS = 24
EVENTS_PER_WRITER = 10


def _in_thread(work, errors: list) -> threading.Thread:
    def run():
        try:
            work()
        except BaseException as error:
            errors.append(error)
        finally:
            # Each thread has its own connection; an open one would keep the test database from being dropped.
            connection.close()

    return threading.Thread(target=run)


def test_concurrent_writers_do_not_fork_the_chain():
    start = threading.Barrier(WRITERS)
    errors: list = []

    def write(writer: int):
        start.wait()
        for index in range(EVENTS_PER_WRITER):
            record_event(
                actor=None,
                action="test.thing.create",
                target={"writer": writer, "index": index},
                parameters={},
                outcome="success",
            )

    threads = [_in_thread(lambda writer=writer: write(writer), errors) for writer in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors

    total = WRITERS * EVENTS_PER_WRITER
    assert AuditEvent.objects.count() == total
    assert AuditEvent.objects.values("prev_hash").distinct().count() == total, "two events share a predecessor"
    report = verify_chain()
    assert report.intact, report.problem
    assert report.events == total


def test_an_append_waits_for_the_transaction_holding_the_chain_head():
    first_recorded, release_first, second_done = threading.Event(), threading.Event(), threading.Event()
    errors: list = []

    def first():
        with transaction.atomic():
            record_event(actor=None, action="test.thing.create", target={"n": 1}, parameters={}, outcome="success")
            first_recorded.set()
            release_first.wait(timeout=30)

    def second():
        first_recorded.wait(timeout=30)
        record_event(actor=None, action="test.thing.create", target={"n": 2}, parameters={}, outcome="success")
        second_done.set()

    threads = [_in_thread(first, errors), _in_thread(second, errors)]
    for thread in threads:
        thread.start()
    assert first_recorded.wait(timeout=30)
    assert not second_done.wait(timeout=1.0), "the second append did not wait for the chain head lock"
    release_first.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    one, two = AuditEvent.objects.order_by("id")
    assert (one.target, two.target) == ({"n": 1}, {"n": 2})
    assert two.prev_hash == one.hash


def test_concurrent_writers_after_a_key_rotation_record_the_switch_once(settings):
    old_key = settings.BERTH_AUDIT_KEYS[0]
    record_event(actor=None, action="test.thing.create", target={}, parameters={}, outcome="success")
    settings.BERTH_AUDIT_KEYS = ["a-new-audit-key-after-rotation-0123456789", old_key]
    start = threading.Barrier(8)
    errors: list = []

    def write():
        start.wait()
        for _ in range(5):
            record_event(actor=None, action="test.thing.create", target={}, parameters={}, outcome="success")

    threads = [_in_thread(write, errors) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert AuditEvent.objects.filter(action=REKEY_ACTION).count() == 1
    report = verify_chain()
    assert report.intact, report.problem
    assert report.events == 1 + 1 + 8 * 5


def test_verifying_while_events_are_appended_raises_no_false_alarm():
    stop = threading.Event()
    errors: list = []

    def write():
        while not stop.is_set():
            record_event(actor=None, action="test.thing.create", target={}, parameters={}, outcome="success")

    threads = [_in_thread(write, errors) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        reports = [verify_chain() for _ in range(20)]
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors
    assert [report.problem for report in reports if not report.intact] == []
    assert reports[-1].events > reports[0].events, "the writers were appending while the chain was verified"
