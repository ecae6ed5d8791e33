"""An audited change made inside a transaction someone else opened (the admin's save, a command's
`atomic`) stays recorded when that transaction rolls back: what the change did outside the
database (in Ceph, in Kubernetes) is not undone by the rollback, so its event must not be either."""

import pytest
from django.db import IntegrityError, transaction

from dashboard.audit.models import AuditEvent
from dashboard.audit.services import recording, verify_chain
from dashboard.core.errors import Conflict
from dashboard.tenancy.models import Tenant
from tests.helpers import audit_writes_done

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_change_that_fails_inside_a_transaction_that_rolls_back_is_recorded():
    with pytest.raises(Conflict), transaction.atomic():
        with recording("test.change", actor=None, target={"image": "rbd/a"}, parameters={"size": 1}):
            raise Conflict("Ceph said no.")
    audit_writes_done()

    event = AuditEvent.objects.get(action="test.change")
    assert (event.outcome, event.error) == ("failed", "Ceph said no.")
    assert event.parameters == {"size": 1, "transaction": "rolled back"}
    assert verify_chain().intact


def test_a_change_made_before_a_later_step_rolls_the_transaction_back_stays_recorded():
    with pytest.raises(RuntimeError), transaction.atomic():
        with recording("test.change", actor=None, target={"image": "rbd/a"}):
            pass  # e.g. a key revoked in Ceph, which no rollback brings back
        raise RuntimeError("a later step of the same save fails")
    audit_writes_done()

    event = AuditEvent.objects.get(action="test.change")
    assert (event.outcome, event.parameters) == ("success", {"transaction": "rolled back"})


def test_a_change_whose_own_database_write_breaks_the_transaction_is_recorded():
    Tenant.objects.create(name="Team A", slug="team-a")
    with pytest.raises(IntegrityError), transaction.atomic():
        with recording("test.change", actor=None, target={"tenant": "team-a"}):
            Tenant.objects.create(name="Team A again", slug="team-a")
    audit_writes_done()

    event = AuditEvent.objects.get(action="test.change")
    assert (event.outcome, event.error) == ("failed", "internal error: IntegrityError")


def test_a_committed_transaction_keeps_its_one_event():
    with transaction.atomic():
        with recording("test.change", actor=None, target={"image": "rbd/a"}):
            pass
    audit_writes_done()

    event = AuditEvent.objects.get(action="test.change")
    assert (event.outcome, event.parameters) == ("success", {})


def test_a_rolled_back_change_whose_actor_is_deleted_meanwhile_is_recorded_under_their_name(django_user_model):
    actor = django_user_model.objects.create_user("leaving", password="unused-password-123")
    # Another admin deletes the user while their request runs (through another instance: this one keeps its key).
    django_user_model.objects.filter(pk=actor.pk).delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        with recording("test.change", actor=actor, target={"image": "rbd/a"}):
            pass
        raise RuntimeError("a later step of the same save fails")
    audit_writes_done()

    event = AuditEvent.objects.get(action="test.change")
    assert (event.actor_id, event.actor_name, event.parameters) == (None, "leaving", {"transaction": "rolled back"})
    assert verify_chain().intact


def test_a_change_whose_actor_is_deleted_while_it_runs_is_recorded_under_their_name(django_user_model):
    actor = django_user_model.objects.create_user("leaving", password="unused-password-123")
    with recording("test.change", actor=actor, target={"image": "rbd/a"}):
        django_user_model.objects.filter(pk=actor.pk).delete()

    event = AuditEvent.objects.get(action="test.change")
    assert (event.actor_id, event.actor_name, event.outcome) == (None, "leaving", "success")
    assert verify_chain().intact
