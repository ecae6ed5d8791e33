"""A mistyped BERTH_METRICS_ALLOWED_NETWORKS stops `manage.py check` (and every start) with its name."""

import pytest
from django.core.checks import run_checks

pytestmark = pytest.mark.unit


def metrics_errors():
    return [message for message in run_checks() if message.id == "dashboard.E001"]


def test_a_network_that_is_no_cidr_is_an_error(settings):
    settings.BERTH_METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "10.0.0.0/33"]
    [error] = metrics_errors()
    assert "BERTH_METRICS_ALLOWED_NETWORKS" in error.msg and "10.0.0.0/33" in error.msg


def test_networks_and_single_addresses_pass(settings):
    settings.BERTH_METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "fd00::/8", "192.0.2.10"]
    assert metrics_errors() == []
