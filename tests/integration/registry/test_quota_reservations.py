"""The pull-secret quota holds no lock across Kubernetes I/O: a secret being created is reserved in
a short transaction, Kubernetes is called outside any transaction, and secrets other requests are
creating count until Kubernetes lists them."""

import threading
from dataclasses import dataclass

import pytest
from django.db import connection

from dashboard.core.errors import QuotaExceeded
from dashboard.tenancy.models import Tenant
from registry.dockerconfig import Credential
from registry.models import PullSecretReservation, RegistryQuota
from registry.services import secrets
from registry.services.kube import KubeApi
from registry.services.tenancy import registry_quota_guard
from tests.helpers import two_tenants

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HARBOR = Credential(server="harbor.example.com", username="robot", password="harbor-pass-1")


@dataclass
class Team:
    tenant: Tenant
    operator: object


@pytest.fixture
def team(kube_cluster, namespace) -> Team:
    a, _b, members, _outsider = two_tenants()
    RegistryQuota.objects.create(tenant=a, kube_cluster=kube_cluster, namespaces=[namespace])
    return Team(a, members["operator"])


def create(team: Team, kube_cluster, namespace: str, name: str):
    [result] = secrets.secret_create(
        actor=team.operator, cluster=kube_cluster, namespaces=[namespace], name=name, credentials=[HARBOR]
    )
    if result.error is not None:
        raise result.error
    return result


def names_in(core, namespace: str) -> set[str]:
    return {secret.metadata.name for secret in core.list_namespaced_secret(namespace).items}


def test_no_transaction_is_open_while_kubernetes_is_read_or_written(team, kube_cluster, namespace, monkeypatch):
    RegistryQuota.objects.filter(tenant=team.tenant).update(max_pull_secrets_per_namespace=5)
    calls = []
    for method in ("list_secrets", "create_secret"):
        real = getattr(KubeApi, method)

        def spy(self, *args, real=real, method=method, **kwargs):
            calls.append((method, connection.in_atomic_block))
            return real(self, *args, **kwargs)

        monkeypatch.setattr(KubeApi, method, spy)

    assert create(team, kube_cluster, namespace, "spied").outcome == "created"

    assert {"list_secrets", "create_secret"} <= {method for method, _ in calls}
    assert [call for call in calls if call[1]] == []
    assert not PullSecretReservation.objects.exists()


def test_a_secret_being_created_counts_until_kubernetes_lists_it(team, kube_cluster, namespace, core):
    RegistryQuota.objects.filter(tenant=team.tenant).update(max_pull_secrets_per_namespace=1)
    with registry_quota_guard(
        actor=team.operator,
        tenant=team.tenant,
        kube_cluster=kube_cluster,
        namespace=namespace,
        name="in-flight",
        pull_secret_names=lambda: names_in(core, namespace),
    ):
        with pytest.raises(QuotaExceeded) as refused:
            create(team, kube_cluster, namespace, "meanwhile")
        assert refused.value.extra["used"] == 1
    assert create(team, kube_cluster, namespace, "afterwards").outcome == "created"


def test_concurrent_creations_never_exceed_the_limit(team, kube_cluster, namespace, core):
    RegistryQuota.objects.filter(tenant=team.tenant).update(max_pull_secrets_per_namespace=2)
    start = threading.Barrier(6)
    made, refused, unexpected = [], [], []

    def attempt(index: int) -> None:
        try:
            start.wait()
            create(team, kube_cluster, namespace, f"racer-{index}")
            made.append(index)
        except QuotaExceeded as error:
            refused.append(error)
        except BaseException as error:
            unexpected.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not unexpected, unexpected
    assert (len(made), len(refused)) == (2, 4)
    assert len({name for name in names_in(core, namespace) if name.startswith("racer-")}) == 2
