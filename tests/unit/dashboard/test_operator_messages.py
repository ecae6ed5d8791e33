"""An error's operator-only text: shown to platform admins, logged when the error is made, and
replaced for everyone else by a pointer to the request id under which the log has it."""

import logging

import pytest
from django.contrib.auth.models import AnonymousUser, User

from dashboard.core.context import change_context
from dashboard.core.errors import NotConfigured

pytestmark = pytest.mark.unit

PLATFORM_ADMIN = User(username="root", is_staff=True, is_superuser=True, is_active=True)
TENANT_USER = User(username="someone", is_active=True)


def test_only_platform_admins_read_the_operators_text_and_the_log_always_has_it(caplog):
    with (
        caplog.at_level(logging.WARNING, logger="dashboard.core.errors"),
        change_context(source="api", request_id="req-0123456789"),
    ):
        error = NotConfigured("Cluster X is not set up correctly.", operator_message="/etc/x.conf is missing.")

    assert error.message_for(PLATFORM_ADMIN) == "/etc/x.conf is missing."
    for someone in (TENANT_USER, AnonymousUser(), None):
        assert error.message_for(someone) == (
            "Cluster X is not set up correctly. A platform admin can find the "
            "details in the server log under request id req-0123456789."
        )
    assert error.as_dict(actor=TENANT_USER)["detail"] == error.message == str(error)
    assert [record.getMessage() for record in caplog.records] == ["/etc/x.conf is missing."]


def test_outside_a_request_the_pointer_names_no_request_id():
    error = NotConfigured("Cluster X is not set up correctly.", operator_message="/etc/x.conf is missing.")
    assert error.message.endswith("A platform admin can find the details in the server log.")


def test_an_error_without_operator_text_reads_the_same_for_everyone(caplog):
    with caplog.at_level(logging.WARNING, logger="dashboard.core.errors"):
        error = NotConfigured("No Ceph cluster is configured.")
    assert error.message_for(PLATFORM_ADMIN) == error.message_for(TENANT_USER) == "No Ceph cluster is configured."
    assert not caplog.records
