"""Credential health against the real kube-apiserver and real docker-registry processes: the periodic
Test login records when each entry of each pull secret last worked and last failed, and why."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.audit.models import AuditEvent
from dashboard.tasks.scheduler import periodic_jobs
from dashboard.tenancy.models import Membership, Tenant
from registry.dockerconfig import Credential
from registry.models import CredentialHealth, Notification, RegistryQuota
from registry.services.credential_health import credential_health_run, expiry_warnings_due
from registry.services.secrets import secret_create
from tests.helpers import api_client_as, leaks, password_forms, stored_text
from tests.services.docker_registry import DockerRegistry

pytestmark = pytest.mark.integration

PASSWORD = "Robot-pw:health 51c2"


def no_progress(done: int, total: int) -> int:
    return 0


@pytest.fixture
def tenant(kube_cluster, namespace) -> Tenant:
    tenant = Tenant.objects.create(name="Team H", slug="team-h")
    RegistryQuota.objects.create(tenant=tenant, kube_cluster=kube_cluster, namespaces=[namespace])
    return tenant


@pytest.fixture
def htpasswd_robot():
    with DockerRegistry(username="robot", password=PASSWORD, auth="htpasswd") as registry:
        yield registry


def make_secret(actor, cluster, namespace, name, server, username, password):
    [result] = secret_create(
        actor=actor,
        cluster=cluster,
        namespaces=[namespace],
        name=name,
        credentials=[Credential(server=server, username=username, password=password)],
    )
    assert result.ok, result.message


def test_the_health_check_is_a_periodic_job():
    assert "registry.credentials.health" in periodic_jobs()


def test_a_changed_htpasswd_fails_the_check_with_the_reason(
    admin_user, kube_cluster, namespace, tenant, htpasswd_robot
):
    server = htpasswd_robot.url.removeprefix("http://")
    make_secret(admin_user, kube_cluster, namespace, "robot-pull", server, "robot", PASSWORD)

    first = credential_health_run(progress=no_progress)

    assert first["entries"] == 1 and first["skipped"] == []
    row = CredentialHealth.objects.get(namespace=namespace, secret_name="robot-pull")
    assert (row.registry, row.username, row.tenant, row.last_outcome) == (server, "robot", tenant, "ok")
    worked_at = row.last_success
    assert worked_at is not None and row.last_failure is None

    htpasswd_robot.set_password("Changed-by-the-registry-admin 0a9d")
    credential_health_run(progress=no_progress)

    row.refresh_from_db()
    assert row.last_outcome == "wrong_credentials"
    assert row.last_failure_reason == f"{server} refused the login of robot: wrong username or password"
    assert row.last_success == worked_at and row.last_failure > worked_at
    [event] = AuditEvent.objects.filter(action="registry.credential.health")
    assert (event.outcome, event.tenant_slug, event.parameters["registry"]) == ("failed", "team-h", server)
    # The same failure again is no new state: no second event.
    credential_health_run(progress=no_progress)
    assert AuditEvent.objects.filter(action="registry.credential.health").count() == 1
    [failing] = Notification.objects.filter(kind=Notification.CREDENTIAL_FAILING)
    assert failing.tenant == tenant and "wrong username or password" in failing.text
    assert leaks(password_forms(PASSWORD, "robot"), stored_text()) == []


def test_a_token_registry_refusing_the_login_is_told_apart_from_one_gone(
    admin_user, kube_cluster, namespace, tenant, token_registry
):
    url, username, password = token_registry
    server = url.removeprefix("http://")
    make_secret(admin_user, kube_cluster, namespace, "good", server, username, password)
    make_secret(admin_user, kube_cluster, namespace, "stale", server, username, password + "-old")
    with DockerRegistry(username="gone", password="pw-gone", auth="htpasswd") as gone:
        gone_server = gone.url.removeprefix("http://")
    make_secret(admin_user, kube_cluster, namespace, "dead", gone_server, "gone", "pw-gone")

    credential_health_run(progress=no_progress)

    rows = {row.secret_name: row for row in CredentialHealth.objects.filter(namespace=namespace)}
    assert rows["good"].last_outcome == "ok"
    assert rows["stale"].last_outcome == "wrong_credentials"
    assert "token service" in rows["stale"].last_failure_reason
    assert rows["dead"].last_outcome == "unreachable"
    assert "connection refused" in rows["dead"].last_failure_reason


def test_expiry_is_set_through_the_api_and_warned_once(admin_user, kube_cluster, namespace, tenant, htpasswd_robot):
    server = htpasswd_robot.url.removeprefix("http://")
    make_secret(admin_user, kube_cluster, namespace, "robot-pull", server, "robot", PASSWORD)
    operator = admin_user.__class__.objects.create_user("h-operator", password="pw-not-used-0")
    Membership.objects.create(user=operator, tenant=tenant, role="operator")
    api = api_client_as(operator)
    checked = api.post(reverse("api:registry-credential-check", args=[namespace, "robot-pull"]))
    assert checked.status_code == 200, checked.json()
    assert [(entry["registry"], entry["last_outcome"]) for entry in checked.json()] == [(server, "ok")]
    assert "password" not in str(checked.json()).lower()

    in_ten_days = timezone.localdate() + dt.timedelta(days=10)
    response = api.post(
        reverse("api:registry-credential-expiry", args=[namespace, "robot-pull"]),
        {"registry": server, "expires_on": in_ten_days.isoformat()},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["expires_on"] == in_ten_days.isoformat()

    assert expiry_warnings_due(today=in_ten_days - dt.timedelta(days=20)) == []  # outside the 14-day window
    [due] = expiry_warnings_due()
    assert due.secret_name == "robot-pull"
    [warning] = Notification.objects.filter(kind=Notification.EXPIRY_NEAR)
    assert warning.tenant == tenant and f"expires in 10 days ({in_ten_days.isoformat()})" in warning.text
    assert expiry_warnings_due() == []  # warned once for this date
    listed = api.get(reverse("api:registry-namespace-credential-health", args=[namespace]))
    assert listed.json()[0]["expires_on"] == in_ten_days.isoformat()


def test_a_tenant_sees_only_its_own_namespaces(admin_user, kube_cluster, namespace, second_namespace, htpasswd_robot):
    mine = Tenant.objects.create(name="Mine", slug="mine")
    theirs = Tenant.objects.create(name="Theirs", slug="theirs")
    RegistryQuota.objects.create(tenant=mine, kube_cluster=kube_cluster, namespaces=[namespace])
    RegistryQuota.objects.create(tenant=theirs, kube_cluster=kube_cluster, namespaces=[second_namespace])
    server = htpasswd_robot.url.removeprefix("http://")
    for ns in (namespace, second_namespace):
        make_secret(admin_user, kube_cluster, ns, "robot-pull", server, "robot", PASSWORD)
    credential_health_run(progress=no_progress)
    viewer = admin_user.__class__.objects.create_user("mine-viewer", password="pw-not-used-0")
    Membership.objects.create(user=viewer, tenant=mine, role="viewer")
    api = api_client_as(viewer)

    listed = api.get(reverse("api:registry-credential-health"))
    assert [entry["namespace"] for entry in listed.json()] == [namespace]
    other = api.get(reverse("api:registry-namespace-credential-health", args=[second_namespace]))
    assert other.status_code == 404
    refused = api.post(reverse("api:registry-credential-check", args=[namespace, "robot-pull"]))
    assert refused.status_code == 403  # checking makes Berth connect: operators only


def test_the_secret_page_shows_each_logins_health_and_checks_it_now(
    admin_client, admin_user, kube_cluster, namespace, tenant, htpasswd_robot
):
    server = htpasswd_robot.url.removeprefix("http://")
    make_secret(admin_user, kube_cluster, namespace, "robot-pull", server, "robot", PASSWORD)
    page = reverse("registry:secret-detail", args=[namespace, "robot-pull"]) + "?cluster=local"
    assert "not checked yet" in admin_client.get(page).content.decode()

    checked = admin_client.post(
        reverse("registry:secret-health-check", args=[namespace, "robot-pull"]) + "?cluster=local", follow=True
    )
    assert "Every registry login works." in checked.content.decode()
    assert ">works</span>, checked" in admin_client.get(page).content.decode()

    htpasswd_robot.set_password("Changed-by-the-registry-admin 7e2b")
    admin_client.post(reverse("registry:secret-health-check", args=[namespace, "robot-pull"]) + "?cluster=local")
    shown = admin_client.get(page).content.decode()
    assert "wrong username or password" in shown and PASSWORD not in shown
