"""The CephCluster record and the connection's checks that need no running cluster."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from dashboard.core.errors import NotConfigured
from storage.models import CephCluster
from storage.services.cluster import cluster_overview

pytestmark = [pytest.mark.unit, pytest.mark.django_db]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "either a ceph.conf path"),
        ({"conf_path": "/etc/ceph/ceph.conf", "mon_host": "v2:127.0.0.1:3300", "key_path": "/k"}, "not both"),
        ({"conf_path": "/etc/ceph/ceph.conf"}, "keyring path is required"),
        ({"mon_host": "v2:127.0.0.1:3300"}, "key file path is required"),
        ({"conf_path": "/c", "keyring_path": "/k", "client_name": "berth"}, "start with 'client.'"),
    ],
)
def test_a_cluster_record_needs_one_complete_connection_style(fields, message):
    cluster = CephCluster(name="c1", **fields)
    with pytest.raises(ValidationError, match=message):
        cluster.full_clean()


def test_a_missing_keyring_is_named_with_its_client(tmp_path, admin_user):
    conf = tmp_path / "ceph.conf"
    conf.write_text("[global]\n")
    cluster = CephCluster.objects.create(
        name="c1", client_name="client.berth", conf_path=str(conf), keyring_path=str(tmp_path / "missing.keyring")
    )
    with pytest.raises(NotConfigured) as caught:
        cluster_overview(actor=admin_user, cluster=cluster)
    assert "missing.keyring" in caught.value.operator_message
    assert "client.berth" in caught.value.operator_message


def test_the_api_says_when_no_cluster_is_configured(admin_client):
    response = admin_client.get(reverse("api:overview"))
    assert response.status_code == 503
    assert response.json()["code"] == "ceph_not_configured"
