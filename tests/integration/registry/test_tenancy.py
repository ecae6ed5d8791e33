"""Pull secrets under tenancy, against the real kube-apiserver: each role × operation through the
services the API and the UI share, another tenant's namespace answering as a missing one does
(API and UI), and the per-namespace pull-secret quota counted from Kubernetes."""

import base64
import json
from dataclasses import dataclass

import pytest
from django.urls import reverse
from kubernetes import client

from dashboard.audit.models import AuditEvent
from dashboard.core.errors import NotFound, PermissionDenied, QuotaExceeded
from dashboard.tenancy.models import Tenant
from registry.dockerconfig import Credential
from registry.models import RegistryQuota
from registry.services import doctor, secrets
from tests.helpers import RANK, api_client_as, create_service_account, linked_secrets, two_tenants

pytestmark = pytest.mark.integration

HARBOR = Credential(server="harbor.example.com", username="robot", password="harbor-pass-1")


def pull_secret(name: str, servers: tuple[str, ...]) -> client.V1Secret:
    auths = {server: {"auth": base64.b64encode(b"user:pass").decode()} for server in servers}
    return client.V1Secret(
        metadata=client.V1ObjectMeta(name=name),
        type="kubernetes.io/dockerconfigjson",
        data={".dockerconfigjson": base64.b64encode(json.dumps({"auths": auths}).encode()).decode()},
    )


@dataclass
class RegistryTeams:
    namespace: str  # tenant A's
    other_namespace: str  # tenant B's
    a: Tenant
    quota: RegistryQuota
    members: dict  # role -> user of tenant A
    outsider: object  # admin of tenant B only


@pytest.fixture
def teams(kube_cluster, core, namespace, second_namespace) -> RegistryTeams:
    """Tenant A owns `namespace`, which holds pull secret `regkey` (two registries) and service
    accounts `default` and `builder`; tenant B owns `second_namespace`."""
    a, b, members, outsider = two_tenants()
    quota = RegistryQuota.objects.create(tenant=a, kube_cluster=kube_cluster, namespaces=[namespace])
    RegistryQuota.objects.create(tenant=b, kube_cluster=kube_cluster, namespaces=[second_namespace])
    core.create_namespaced_secret(namespace, pull_secret("regkey", ("harbor.example.com", "quay.example.org")))
    create_service_account(core, namespace, "builder")
    return RegistryTeams(namespace, second_namespace, a, quota, members, outsider)


def on(teams, cluster):
    return {"cluster": cluster, "namespace": teams.namespace}


def created(results):
    [result] = results
    if result.error is not None:
        raise result.error
    return result


# (name, minimal role, audited action or None for reads, call)
OPERATIONS = [
    ("secret_list", "viewer", None, lambda a, t, c: secrets.secret_list(actor=a, **on(t, c))),
    ("secret_get", "viewer", None, lambda a, t, c: secrets.secret_get(actor=a, **on(t, c), name="regkey")),
    ("service_account_list", "viewer", None, lambda a, t, c: secrets.service_account_list(actor=a, **on(t, c))),
    ("pull_doctor", "viewer", None, lambda a, t, c: doctor.pull_doctor(actor=a, **on(t, c))),
    (
        "pull_doctor_for_image",
        "viewer",
        None,
        lambda a, t, c: doctor.pull_doctor_for_image(actor=a, **on(t, c), image="harbor.example.com/app:1"),
    ),
    (
        "secret_create",
        "operator",
        "registry.secret.create",
        lambda a, t, c: created(
            secrets.secret_create(actor=a, cluster=c, namespaces=[t.namespace], name="fresh", credentials=[HARBOR])
        ),
    ),
    (
        "secret_rotate",
        "operator",
        "registry.secret.rotate",
        lambda a, t, c: secrets.secret_rotate(
            actor=a, **on(t, c), name="regkey", server="harbor.example.com", password="new-pass"
        ),
    ),
    (
        "secret_add_entry",
        "operator",
        "registry.secret.entry.add",
        lambda a, t, c: secrets.secret_add_entry(
            actor=a, **on(t, c), name="regkey", server="ghcr.io", username="ci", password="ghcr-pass"
        ),
    ),
    (
        "secret_remove_entry",
        "operator",
        "registry.secret.entry.remove",
        lambda a, t, c: secrets.secret_remove_entry(actor=a, **on(t, c), name="regkey", server="quay.example.org"),
    ),
    (
        "secret_link",
        "operator",
        "registry.secret.link",
        lambda a, t, c: secrets.secret_link(actor=a, **on(t, c), name="regkey", service_accounts=["builder"]),
    ),
    (
        "secret_unlink",
        "operator",
        "registry.secret.unlink",
        lambda a, t, c: secrets.secret_unlink(actor=a, **on(t, c), name="regkey", service_accounts=["default"]),
    ),
    (
        "secret_delete",
        "admin",
        "registry.secret.delete",
        lambda a, t, c: secrets.secret_delete(actor=a, **on(t, c), name="regkey", confirm_name="regkey"),
    ),
]
IDS = [operation[0] for operation in OPERATIONS]


@pytest.mark.parametrize("role", list(RANK))
@pytest.mark.parametrize("operation", OPERATIONS, ids=IDS)
def test_role_matrix(teams, kube_cluster, role, operation):
    _name, needed, action, call = operation
    actor = teams.members[role]
    if RANK[role] >= RANK[needed]:
        call(actor, teams, kube_cluster)
        if action:
            event = AuditEvent.objects.get(action=action)
            assert (event.outcome, event.tenant_slug, event.actor_name) == ("success", "team-a", actor.username)
        return
    with pytest.raises(PermissionDenied) as refused:
        call(actor, teams, kube_cluster)
    assert refused.value.code == "role_denied" and f"needs the {needed} role" in refused.value.message
    event = AuditEvent.objects.get(action=action)
    assert (event.outcome, event.tenant_slug, event.actor_name) == ("denied", "team-a", actor.username)


@pytest.mark.parametrize("operation", OPERATIONS, ids=IDS)
def test_another_tenants_admin_gets_not_found_recorded_as_denied(teams, kube_cluster, core, operation):
    _name, _needed, action, call = operation
    with pytest.raises(NotFound) as refused:
        call(teams.outsider, teams, kube_cluster)
    assert refused.value.code == "tenant_denied"
    assert refused.value.message == f"Namespace {teams.namespace} does not exist, or is not one of your tenants'."
    [event] = AuditEvent.objects.filter(actor_name="b-admin")
    assert (event.action, event.outcome, event.tenant_slug) == (action or "tenancy.access", "denied", "")
    assert linked_secrets(core, teams.namespace) == []
    assert (
        core.read_namespaced_secret("regkey", teams.namespace).data
        == pull_secret("regkey", ("harbor.example.com", "quay.example.org")).data
    )


def test_platform_admins_act_anywhere_and_the_event_names_the_tenant(teams, kube_cluster, admin_user):
    secrets.secret_rotate(
        actor=admin_user, **on(teams, kube_cluster), name="regkey", server="harbor.example.com", password="new-pass"
    )
    event = AuditEvent.objects.get(action="registry.secret.rotate")
    assert (event.outcome, event.tenant_slug) == ("success", "team-a")


def test_namespace_choices_are_the_tenants_and_all_for_platform_admins(teams, kube_cluster, admin_user):
    assert secrets.namespace_list(actor=teams.members["viewer"], cluster=kube_cluster) == [teams.namespace]
    assert secrets.namespace_list(actor=teams.outsider, cluster=kube_cluster) == [teams.other_namespace]
    everything = secrets.namespace_list(actor=admin_user, cluster=kube_cluster)
    assert {teams.namespace, teams.other_namespace, "default", "kube-system"} <= set(everything)


def test_quota_counts_pull_secrets_in_kubernetes_and_only_new_ones(teams, kube_cluster, core):
    """`regkey` and a pull secret made outside Berth fill a limit of 2; an Opaque secret does not count."""
    teams.quota.max_pull_secrets_per_namespace = 2
    teams.quota.save()
    core.create_namespaced_secret(
        teams.namespace,
        client.V1Secret(metadata=client.V1ObjectMeta(name="not-a-pull-secret"), type="Opaque", string_data={"a": "b"}),
    )
    core.create_namespaced_secret(teams.namespace, pull_secret("from-kubectl", ("ghcr.io",)))
    operator = teams.members["operator"]

    def create(name: str):
        return created(
            secrets.secret_create(
                actor=operator, cluster=kube_cluster, namespaces=[teams.namespace], name=name, credentials=[HARBOR]
            )
        )

    with pytest.raises(QuotaExceeded) as refused:
        create("third")
    assert refused.value.extra == {
        "limit": "max_pull_secrets_per_namespace",
        "used": 2,
        "requested": 1,
        "maximum": 2,
        "excess": 1,
    }
    assert core.list_namespaced_secret(teams.namespace, field_selector="metadata.name=third").items == []
    assert create("from-kubectl").outcome == "updated"
    core.delete_namespaced_secret("regkey", teams.namespace)
    assert create("third").outcome == "created"
    events = AuditEvent.objects.filter(action="registry.secret.create").order_by("id")
    assert list(events.values_list("outcome", flat=True)) == ["denied", "success", "success"]


# --- through the API and the UI ------------------------------------------------------------------


def test_api_quota_refusal_names_the_limit_usage_and_excess(teams, kube_cluster):
    teams.quota.max_pull_secrets_per_namespace = 1
    teams.quota.save()
    response = api_client_as(teams.members["operator"]).post(
        reverse("api:registry-secret-list", args=[teams.namespace]),
        {"name": "second", "registries": [{"server": "ghcr.io", "username": "ci", "password": "ghcr-pass"}]},
        format="json",
    )
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["limit"], body["used"], body["maximum"], body["excess"]) == (
        "quota_exceeded",
        "max_pull_secrets_per_namespace",
        1,
        1,
        1,
    )
    assert body["detail"] == (
        f"Tenant team-a would exceed its pull secrets in namespace {teams.namespace} quota: "
        "1 in use + 1 requested = 2, limit 1 (1 over). Free some up or ask a platform admin "
        "to raise the limit."
    )
    event = AuditEvent.objects.get(action="registry.secret.create")
    assert (event.outcome, event.tenant_slug, event.error) == ("denied", "team-a", body["detail"])


def test_api_another_tenants_namespace_answers_as_a_missing_one(teams, kube_cluster, core):
    api = api_client_as(teams.members["admin"])
    assert api.get(reverse("api:registry-namespace-list")).json() == {"namespaces": [teams.namespace]}
    assert api.get(reverse("api:registry-secret-list", args=[teams.namespace])).status_code == 200

    other = api.get(reverse("api:registry-secret-list", args=[teams.other_namespace]))
    missing = api.get(reverse("api:registry-secret-list", args=["no-such-namespace"]))
    assert other.status_code == missing.status_code == 404
    assert other.json()["code"] == missing.json()["code"] == "tenant_denied"
    assert other.json()["detail"].replace(teams.other_namespace, "X") == missing.json()["detail"].replace(
        "no-such-namespace", "X"
    )

    create = api.post(
        reverse("api:registry-secret-list", args=[teams.other_namespace]),
        {"name": "intruder", "registries": [{"server": "ghcr.io", "username": "x", "password": "y"}]},
        format="json",
    )
    assert create.status_code == 404 and create.json()["code"] == "tenant_denied"
    assert core.list_namespaced_secret(teams.other_namespace).items == []
    assert api.get(reverse("api:registry-doctor", args=[teams.other_namespace])).status_code == 404
    events = AuditEvent.objects.filter(actor_name="a-admin").order_by("id")
    assert list(events.values_list("action", "outcome")) == [
        ("tenancy.access", "denied"),
        ("tenancy.access", "denied"),
        ("registry.secret.create", "denied"),
        ("tenancy.access", "denied"),
    ]


def test_ui_shows_only_the_tenants_namespaces(teams, kube_cluster, client):
    client.force_login(teams.members["operator"])
    own = client.get(reverse("registry:secret-list"), {"namespace": teams.namespace})
    assert own.status_code == 200 and "regkey" in own.content.decode()
    assert teams.other_namespace not in own.content.decode()
    assert client.get(reverse("registry:secret-list"), {"namespace": teams.other_namespace}).status_code == 404
    assert client.get(reverse("registry:secret-detail", args=[teams.other_namespace, "regkey"])).status_code == 404
    assert client.get(reverse("registry:doctor"), {"namespace": teams.other_namespace}).status_code == 404

    client.get(reverse("registry:wizard-start"))
    target = client.get(reverse("registry:wizard-target")).content.decode()
    assert f'value="{teams.namespace}"' in target and f'value="{teams.other_namespace}"' not in target
    refused = client.post(
        reverse("registry:wizard-target"), {"cluster": "local", "namespaces": [teams.other_namespace]}
    )
    assert refused.status_code == 400
    assert (
        client.post(
            reverse("registry:wizard-target"), {"cluster": "local", "namespaces": [teams.namespace]}
        ).status_code
        == 302
    )


def test_ui_delete_needs_the_admin_role(teams, kube_cluster, client, core):
    client.force_login(teams.members["operator"])
    url = reverse("registry:secret-delete", args=[teams.namespace, "regkey"])
    response = client.post(url, {"confirm_name": "regkey"})
    assert response.status_code == 403 and "needs the admin role" in response.content.decode()
    assert core.read_namespaced_secret("regkey", teams.namespace).metadata.name == "regkey"
