"""Registering the cluster Berth runs in: no kubeconfig, the pod's ServiceAccount instead (the Helm chart's
migration Job does this; tests/integration/deploy uses such a record against the real API server)."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError

from dashboard.audit.models import AuditEvent
from registry.models import KubeCluster

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_the_command_registers_this_cluster_and_records_how(tmp_path):
    call_command("register_kube_cluster", "this-cluster", "--in-cluster", "--default", stdout=io.StringIO())
    cluster = KubeCluster.objects.get(name="this-cluster")
    assert cluster.in_cluster and cluster.is_default and cluster.kubeconfig_path == ""
    event = AuditEvent.objects.get(action="registry.cluster.register")
    assert event.parameters["in_cluster"] is True

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\n")
    call_command("register_kube_cluster", "this-cluster", "--kubeconfig", str(kubeconfig), stdout=io.StringIO())
    cluster.refresh_from_db()
    assert not cluster.in_cluster and cluster.kubeconfig_path == str(kubeconfig), "registered again the other way"


@pytest.mark.parametrize(
    "arguments",
    [
        ["--in-cluster", "--kubeconfig", "/etc/kube/config"],
        ["--in-cluster", "--context", "admin@prod"],
        [],
    ],
)
def test_the_command_wants_exactly_one_way_in(arguments):
    with pytest.raises(CommandError):
        call_command("register_kube_cluster", "k1", *arguments, stdout=io.StringIO(), stderr=io.StringIO())
    assert not KubeCluster.objects.exists()


def test_the_record_has_a_kubeconfig_or_is_this_cluster():
    with pytest.raises(ValidationError, match="no kubeconfig"):
        KubeCluster(name="both", in_cluster=True, kubeconfig_path="/k").full_clean()
    with pytest.raises(ValidationError, match="tick 'this cluster'"):
        KubeCluster(name="neither").full_clean()
    with pytest.raises(IntegrityError):
        KubeCluster.objects.create(name="neither")
