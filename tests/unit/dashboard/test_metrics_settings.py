"""A mistyped BERTH_METRICS_ALLOWED_NETWORKS stops `manage.py check` (and every start) with its name."""

import pytest

from dashboard.health import metrics_settings

pytestmark = pytest.mark.unit


def test_a_network_that_is_no_cidr_is_an_error(settings):
    settings.BERTH_METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "10.0.0.0/33"]
    [error] = metrics_settings(None)
    assert error.id == "dashboard.E001" and "BERTH_METRICS_ALLOWED_NETWORKS" in error.msg


def test_networks_and_single_addresses_pass(settings):
    settings.BERTH_METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "fd00::/8", "192.0.2.10"]
    assert metrics_settings(None) == []
