"""Concurrent writers on PostgreSQL append to one chain; they never fork it."""

import threading

import pytest
from django.db import connection, transaction

from dashboard.audit.models import AuditEvent
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
