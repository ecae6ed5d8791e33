"""Managed pull secrets against the real kube-apiserver (with its controller manager) and a real
docker-registry: the periodic job, driven directly, keeps one source in every namespace of a tenant."""

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from kubernetes import client

from dashboard.audit.models import AuditEvent
from dashboard.core.errors import NotFound
from dashboard.tasks.models import BackgroundTask
from dashboard.tasks.scheduler import scheduler_tick
from dashboard.tenancy.models import Tenant
from registry.dockerconfig import Credential
from registry.models import ManagedPullSecret, Notification, RegistryQuota
from registry.services import managed as service
from tests.helpers import (
    api_client_as,
    create_service_account,
    linked_secrets,
    stored_config,
    temporary_namespace,
    two_tenants,
    wait_for_service_account,
    wait_for_task,
)

pytestmark = pytest.mark.integration

NAME = "team-pull"


def _no_progress(done: int, total: int) -> int:
    return 0


def dockerconfigjson(url: str, username: str, password: str) -> dict[str, str]:
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    document = {"auths": {url.removeprefix("http://"): {"username": username, "password": password, "auth": auth}}}
    return {".dockerconfigjson": base64.b64encode(json.dumps(document).encode()).decode()}


@dataclass
class Fleet:
    core: client.CoreV1Api
    tenant: Tenant
    quota: RegistryQuota
    members: dict
    source_namespace: str
    namespaces: list[str]
    registry: object
    outsider: object

    def add_namespace(self, name: str) -> None:
        self.quota.namespaces = [*self.quota.namespaces, name]
        self.quota.save()

    def resync(self) -> dict:
        """One run of the periodic job, as the scheduler's worker runs it."""
        return service.managed_secrets_resync(progress=_no_progress)

    def copy(self, namespace: str) -> client.V1Secret:
        return self.core.read_namespaced_secret(NAME, namespace)

    def auth_in(self, namespace: str) -> str:
        _, document = stored_config(self.core, namespace, NAME)
        [entry] = document["auths"].values()
        return base64.b64decode(entry["auth"]).decode()


@pytest.fixture
def fleet(kube_cluster, core, htpasswd_registry) -> Iterator[Fleet]:
    """Tenant A owns a source namespace holding `registry-login` (the real registry's login) and two
    more namespaces; tenant B owns another."""
    a, _b, members, outsider = two_tenants()
    with (
        temporary_namespace(core, "berth-src") as source,
        temporary_namespace(core) as first,
        temporary_namespace(core) as second,
    ):
        for name in (source, first, second):
            wait_for_service_account(core, name)
        core.create_namespaced_secret(
            source,
            client.V1Secret(
                metadata=client.V1ObjectMeta(name="registry-login"),
                type="kubernetes.io/dockerconfigjson",
                data=dockerconfigjson(*htpasswd_registry),
            ),
        )
        quota = RegistryQuota.objects.create(tenant=a, kube_cluster=kube_cluster, namespaces=[source, first, second])
        yield Fleet(core, a, quota, members, source, [first, second], htpasswd_registry, outsider)


def make(fleet: Fleet, **options) -> ManagedPullSecret:
    return service.managed_secret_create(
        actor=fleet.members["admin"],
        tenant=fleet.tenant,
        name=NAME,
        source_namespace=fleet.source_namespace,
        source_name="registry-login",
        **options,
    )


def states(fleet: Fleet, managed: ManagedPullSecret) -> dict[str, str]:
    found = service.managed_secret_fleet(actor=fleet.members["viewer"], managed=managed)
    return {entry.namespace: entry.state.value for entry in found.namespaces}


@pytest.mark.django_db
def test_every_namespace_gets_an_identical_linked_copy_and_a_namespace_added_later_within_one_period(fleet):
    managed = make(fleet)
    assert set(states(fleet, managed).values()) == {"missing"}
    fleet.resync()
    source = fleet.core.read_namespaced_secret("registry-login", fleet.source_namespace)
    for namespace in fleet.namespaces:
        copy = fleet.copy(namespace)
        assert copy.data == source.data
        assert copy.metadata.labels[service.MANAGED_LABEL] == str(managed.uid)
        assert copy.metadata.annotations[service.SOURCE_ANNOTATION] == f"{fleet.source_namespace}/registry-login"
        assert NAME in linked_secrets(fleet.core, namespace)
    assert set(states(fleet, managed).values()) == {"in sync"}

    with temporary_namespace(fleet.core) as later:
        wait_for_service_account(fleet.core, later)
        fleet.add_namespace(later)
        assert states(fleet, managed)[later] == "missing"
        fleet.resync()
        assert fleet.copy(later).data == source.data
        assert NAME in linked_secrets(fleet.core, later)
        assert states(fleet, managed)[later] == "in sync"
    repairs = AuditEvent.objects.filter(action="registry.managed_secret.repair", target__namespace=later)
    assert sorted(event.parameters["repair"] for event in repairs) == ["created", "linked"]


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_starts_the_resync_and_a_worker_runs_it(fleet):
    make(fleet)
    started = scheduler_tick(now=timezone.now() + timedelta(days=1))
    [resync] = [task for task in started if task.name == "registry.managed_secrets.resync"]
    assert wait_for_task(resync).status == BackgroundTask.SUCCEEDED
    for namespace in fleet.namespaces:
        assert NAME in linked_secrets(fleet.core, namespace)


@pytest.mark.django_db
def test_a_service_account_created_later_is_linked(fleet):
    managed = make(fleet, accounts=ManagedPullSecret.ALL_ACCOUNTS)
    fleet.resync()
    namespace = fleet.namespaces[0]
    create_service_account(fleet.core, namespace, "builder")
    assert states(fleet, managed)[namespace] == "not linked"
    fleet.resync()
    assert NAME in linked_secrets(fleet.core, namespace, "builder")
    assert states(fleet, managed)[namespace] == "in sync"


@pytest.mark.django_db
def test_listed_accounts_are_linked_once_they_exist(fleet):
    managed = make(fleet, accounts=ManagedPullSecret.LISTED_ACCOUNTS, account_names=["ci"])
    fleet.resync()
    namespace = fleet.namespaces[1]
    assert NAME not in linked_secrets(fleet.core, namespace)  # `default` was not chosen
    create_service_account(fleet.core, namespace, "ci")
    fleet.resync()
    assert linked_secrets(fleet.core, namespace, "ci") == [NAME]
    assert states(fleet, managed)[namespace] == "in sync"


def hand_edit(fleet: Fleet, namespace: str) -> None:
    copy = fleet.copy(namespace)
    copy.data = dockerconfigjson(fleet.registry.url, "someone", "edited-by-hand")
    fleet.core.replace_namespaced_secret(NAME, namespace, copy)


@pytest.mark.django_db
def test_a_hand_edited_copy_is_reported_then_repaired_now(fleet):
    managed = make(fleet)
    fleet.resync()
    edited = fleet.namespaces[0]
    hand_edit(fleet, edited)
    assert states(fleet, managed)[edited] == "differs"
    result = fleet.resync()
    assert result[f"{fleet.tenant.slug}/{NAME}"]["drift"] == [edited]
    assert fleet.auth_in(edited) == "someone:edited-by-hand"  # policy report: left as it is
    fleet.resync()
    drift_events = AuditEvent.objects.filter(action="registry.managed_secret.drift", target__namespace=edited)
    assert drift_events.count() == 1  # found once, not once a period
    [found] = Notification.objects.filter(tenant=fleet.tenant, kind=Notification.DRIFT_FOUND)
    assert edited in found.text and found.details["namespace"] == edited

    task = service.managed_secret_repair(actor=fleet.members["operator"], managed=managed)
    # No worker runs in this test's transaction: run the queued task's body as a worker would.
    service.managed_secret_reconcile_task(progress=_no_progress, **task.arguments)
    assert fleet.auth_in(edited) == f"{fleet.registry.username}:{fleet.registry.password}"
    assert states(fleet, managed)[edited] == "in sync"
    assert AuditEvent.objects.filter(
        action="registry.managed_secret.repair", target__namespace=edited, parameters__repair="repaired"
    ).exists()
    [repaired] = Notification.objects.filter(tenant=fleet.tenant, kind=Notification.DRIFT_REPAIRED)
    assert repaired.details["namespaces"] == [edited]


@pytest.mark.django_db
def test_a_reconcile_error_is_told_once_while_it_lasts(fleet):
    managed = make(fleet)
    fleet.resync()
    fleet.core.delete_namespaced_secret("registry-login", fleet.source_namespace)
    fleet.resync()
    fleet.resync()
    managed.refresh_from_db()
    assert "registry-login" in managed.last_error
    [told] = Notification.objects.filter(tenant=fleet.tenant, kind=Notification.RECONCILE_ERROR)
    assert told.text.endswith(managed.last_error)


@pytest.mark.django_db
def test_policy_repair_repairs_a_hand_edited_copy_in_the_next_period(fleet):
    managed = make(fleet, drift_policy=ManagedPullSecret.REPAIR)
    fleet.resync()
    hand_edit(fleet, fleet.namespaces[1])
    fleet.resync()
    assert fleet.auth_in(fleet.namespaces[1]) == f"{fleet.registry.username}:{fleet.registry.password}"
    assert set(states(fleet, managed).values()) == {"in sync"}


@pytest.mark.django_db
def test_rotating_the_source_updates_every_copy_whatever_the_drift_policy(fleet):
    managed = make(fleet)
    fleet.resync()
    new = Credential(server=fleet.registry.url.removeprefix("http://"), username="robot", password="rotated-1")
    service.managed_secret_rotate(actor=fleet.members["operator"], managed=managed, credentials=[new])
    assert {states(fleet, managed)[namespace] for namespace in fleet.namespaces} == {"outdated"}
    fleet.resync()
    for namespace in fleet.namespaces:
        assert fleet.auth_in(namespace) == "robot:rotated-1"
    assert set(states(fleet, managed).values()) == {"in sync"}


@pytest.mark.django_db
def test_an_unmanaged_same_named_secret_is_left_alone_until_adopted(fleet):
    namespace = fleet.namespaces[0]
    fleet.core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name=NAME),
            type="kubernetes.io/dockerconfigjson",
            data=dockerconfigjson("theirs.example.com", "theirs", "their-password"),
        ),
    )
    managed = make(fleet, drift_policy=ManagedPullSecret.REPAIR)
    fleet.resync()
    task = service.managed_secret_repair(actor=fleet.members["admin"], managed=managed)
    service.managed_secret_reconcile_task(progress=_no_progress, **task.arguments)
    assert fleet.auth_in(namespace) == "theirs:their-password"
    assert states(fleet, managed)[namespace] == "unmanaged"

    service.managed_secret_adopt(actor=fleet.members["admin"], managed=managed, namespace=namespace)
    assert fleet.auth_in(namespace) == f"{fleet.registry.username}:{fleet.registry.password}"
    assert fleet.copy(namespace).metadata.labels[service.MANAGED_LABEL] == str(managed.uid)
    assert states(fleet, managed)[namespace] == "in sync"


@pytest.mark.django_db
def test_a_namespace_that_opts_out_is_left_alone(fleet):
    opted = fleet.namespaces[1]
    fleet.core.patch_namespace(opted, {"metadata": {"annotations": {service.OPT_OUT_ANNOTATION: "off"}}})
    managed = make(fleet)
    fleet.resync()
    assert fleet.core.list_namespaced_secret(opted, field_selector=f"metadata.name={NAME}").items == []
    assert NAME not in linked_secrets(fleet.core, opted)
    assert states(fleet, managed)[opted] == "opted out"
    assert NAME in linked_secrets(fleet.core, fleet.namespaces[0])


@pytest.mark.django_db
def test_copies_leave_namespaces_that_leave_the_target_set_when_the_policy_says_so(fleet):
    managed = make(fleet, remove_departed=True, target_labels={"pull": "yes"})
    kept, left = fleet.namespaces
    for namespace in (kept, left):
        fleet.core.patch_namespace(namespace, {"metadata": {"labels": {"pull": "yes"}}})
    fleet.resync()
    assert NAME in linked_secrets(fleet.core, left)
    fleet.core.patch_namespace(left, {"metadata": {"labels": {"pull": None}}})
    assert states(fleet, managed)[left] == "departed"
    fleet.resync()
    assert fleet.core.list_namespaced_secret(left, field_selector=f"metadata.name={NAME}").items == []
    assert NAME not in linked_secrets(fleet.core, left)
    assert NAME in linked_secrets(fleet.core, kept)
    assert left not in states(fleet, managed)


@pytest.mark.django_db
def test_api_calls_per_reconcile_do_not_grow_with_the_namespaces(fleet):
    """Observing the fleet costs four requests; a steady-state reconcile writes nothing."""
    managed = make(fleet)
    first = service.managed_secret_reconcile(managed=managed)
    # Per namespace created (the source's too): the create, and for `default` a read plus the list write.
    assert first.api_calls == 4 + 3 * len(fleet.quota.namespaces)
    managed.refresh_from_db()
    assert service.managed_secret_reconcile(managed=managed).api_calls == 4


@pytest.mark.django_db
def test_viewers_see_admins_change_and_other_tenants_answer_as_missing(fleet):
    managed = make(fleet)
    b_admin = fleet.outsider
    with pytest.raises(NotFound):
        service.managed_secret_get(actor=b_admin, tenant=fleet.tenant.slug, name=NAME)
    assert service.managed_secret_list(actor=b_admin) == []
    assert service.managed_secret_get(actor=fleet.members["viewer"], tenant=fleet.tenant.slug, name=NAME) == managed
    for role in ("viewer", "operator"):
        with pytest.raises(Exception, match="needs the admin role"):
            service.managed_secret_delete(actor=fleet.members[role], managed=managed, confirm_name=NAME)
    with pytest.raises(Exception, match="needs the operator role"):
        service.managed_secret_repair(actor=fleet.members["viewer"], managed=managed)


# --- API ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_creates_shows_repairs_rotates_and_deletes_with_the_tenants_roles(fleet):
    admin, operator, viewer = (api_client_as(fleet.members[role]) for role in ("admin", "operator", "viewer"))
    listing = reverse("api:registry-managed-secret-list", args=[fleet.tenant.slug])
    detail = reverse("api:registry-managed-secret-detail", args=[fleet.tenant.slug, NAME])
    body = {"name": NAME, "source_namespace": fleet.source_namespace, "source_name": "registry-login"}

    assert operator.post(listing, body, format="json").status_code == 403
    created = admin.post(listing, {**body, "accounts": "all"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["accounts"] == "all"
    assert [row["name"] for row in viewer.get(listing).json()] == [NAME]
    assert api_client_as(fleet.outsider).get(detail).status_code == 404

    fleet.resync()
    state = viewer.get(reverse("api:registry-managed-secret-state", args=[fleet.tenant.slug, NAME])).json()
    assert {row["state"] for row in state["namespaces"]} == {"in sync"}
    assert state["api_calls"] == 4
    assert state["registries"] == [fleet.registry.url.removeprefix("http://")]

    repair = reverse("api:registry-managed-secret-repair", args=[fleet.tenant.slug, NAME])
    assert viewer.post(repair).status_code == 403
    accepted = operator.post(repair)
    assert accepted.status_code == 202 and accepted.json()["name"] == service.RECONCILE_TASK

    rotate = reverse("api:registry-managed-secret-rotate", args=[fleet.tenant.slug, NAME])
    login = {"server": fleet.registry.url, "username": "robot", "password": "rotated-by-api"}
    assert operator.post(rotate, {"registries": [login]}, format="json").status_code == 202
    fleet.resync()
    assert {fleet.auth_in(namespace) for namespace in fleet.namespaces} == {"robot:rotated-by-api"}
    rotation = AuditEvent.objects.get(action="registry.managed_secret.rotate")
    assert rotation.parameters == {"servers": [login["server"].removeprefix("http://")], "usernames": ["robot"]}

    changed = admin.put(detail, {**body, "drift_policy": "repair"}, format="json")
    assert changed.status_code == 200 and changed.json()["drift_policy"] == "repair"
    assert admin.delete(detail, {"confirm_name": "wrong"}, format="json").status_code == 400
    assert admin.delete(detail, {"confirm_name": NAME}, format="json").status_code == 204
    assert not ManagedPullSecret.objects.exists()
    assert fleet.copy(fleet.namespaces[0]).data  # the copies stay


# --- pages -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_fleet_page_shows_each_namespace_and_the_source_is_rotated_through_the_credentials_step(fleet, client):
    managed = make(fleet)
    fleet.resync()
    hand_edit(fleet, fleet.namespaces[0])
    client.force_login(fleet.members["operator"])
    detail = reverse("registry:managed-detail", args=[fleet.tenant.slug, NAME])
    assert client.get(detail).status_code == 200
    table = client.get(reverse("registry:managed-fleet", args=[fleet.tenant.slug, NAME])).content.decode()
    assert f'data-namespace="{fleet.namespaces[0]}" data-state="differs"' in table
    assert f'data-namespace="{fleet.namespaces[1]}" data-state="in sync"' in table
    assert 'hx-trigger="every 2s"' in table  # polls while a namespace is out of line

    rotate = reverse("registry:managed-rotate", args=[fleet.tenant.slug, NAME])
    server = fleet.registry.url.removeprefix("http://")
    form = client.get(rotate).content.decode()
    assert f'value="{server}"' in form and f'value="{fleet.registry.username}"' in form
    assert reverse("registry:wizard-test-login") in form  # the wizard's Test login, on every row
    row = {"server": fleet.registry.url, "username": fleet.registry.username, "password": fleet.registry.password}
    tested = client.post(
        reverse("registry:wizard-test-login"),
        {"row": "registries-0", **{f"registries-0-{k}": v for k, v in row.items()}},
    )
    assert tested.status_code == 200 and "text-success" in tested.content.decode(), tested.content
    rows = {"registries-TOTAL_FORMS": "1", "registries-INITIAL_FORMS": "0"}
    rows |= {f"registries-0-{key}": value for key, value in {**row, "password": "rotated-in-ui"}.items()}
    assert client.post(rotate, rows).status_code == 302
    table = client.get(reverse("registry:managed-fleet", args=[fleet.tenant.slug, NAME])).content.decode()
    assert f'data-namespace="{fleet.namespaces[1]}" data-state="outdated"' in table
    assert "reconcile-task" in table
    fleet.resync()
    for namespace in fleet.namespaces[1:]:
        assert fleet.auth_in(namespace) == f"{fleet.registry.username}:rotated-in-ui"
    assert fleet.auth_in(fleet.namespaces[0]) == "someone:edited-by-hand"  # policy report

    assert client.post(reverse("registry:managed-repair", args=[fleet.tenant.slug, NAME])).status_code == 302
    task = BackgroundTask.objects.filter(name=service.RECONCILE_TASK, target__repair=True).get()
    service.managed_secret_reconcile_task(progress=_no_progress, **task.arguments)
    table = client.get(reverse("registry:managed-fleet", args=[fleet.tenant.slug, NAME])).content.decode()
    assert 'data-state="differs"' not in table and 'hx-trigger="every 2s"' in table  # the task row is still queued
    managed.refresh_from_db()
    assert set(managed.states.values()) == {"in sync"}


# --- deleting ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_deleting_with_the_copies_unlinks_and_deletes_them_in_the_tenants_namespaces_only(fleet, client):
    """The typed-name page, ticked: a background task removes every copy (the source's namespace's too)
    and unlinks it; a secret labelled as a copy in a namespace the tenant does not own stays, and so
    does the source."""
    managed = make(fleet, accounts=ManagedPullSecret.ALL_ACCOUNTS)
    fleet.resync()
    create_service_account(fleet.core, fleet.namespaces[0], "builder")
    fleet.resync()
    with temporary_namespace(fleet.core, "berth-other") as elsewhere:
        copy = fleet.copy(fleet.namespaces[0])
        forged = {"metadata": {"name": NAME, "labels": copy.metadata.labels}, "type": copy.type, "data": copy.data}
        fleet.core.create_namespaced_secret(elsewhere, forged)

        client.force_login(fleet.members["admin"])
        page = reverse("registry:managed-delete", args=[fleet.tenant.slug, NAME])
        form = client.get(page).content.decode()
        assert "By default the copies stay where they are" in form and 'name="remove_copies"' in form
        assert client.post(page, {"confirm_name": "wrong", "remove_copies": "on"}).status_code == 400
        assert ManagedPullSecret.objects.exists()
        answer = client.post(page, {"confirm_name": NAME, "remove_copies": "on"})
        assert not ManagedPullSecret.objects.exists()
        task = BackgroundTask.objects.get(name=service.REMOVE_COPIES_TASK)
        assert answer.status_code == 302
        assert answer["Location"] == task.progress_page_url(next_url=reverse("registry:managed-list"))
        progress = []
        # No worker runs in this test's transaction: run the queued task's body as a worker would.
        result = service.managed_secret_remove_copies_task(
            progress=lambda done, total: progress.append((done, total)) or 0, **task.arguments
        )

        copied = [fleet.source_namespace, *fleet.namespaces]
        assert result == {"removed": sorted(copied)}
        assert progress == [(done, len(copied)) for done in range(1, len(copied) + 1)]
        for namespace in copied:
            assert fleet.core.list_namespaced_secret(namespace, field_selector=f"metadata.name={NAME}").items == []
            assert NAME not in linked_secrets(fleet.core, namespace)
        assert NAME not in linked_secrets(fleet.core, fleet.namespaces[0], "builder")
        assert fleet.core.read_namespaced_secret(NAME, elsewhere).data == copy.data
        assert fleet.core.read_namespaced_secret("registry-login", fleet.source_namespace).data

    deleted = AuditEvent.objects.get(action="registry.managed_secret.delete")
    assert deleted.parameters == {"remove_copies": True}
    removals = AuditEvent.objects.filter(action="registry.managed_secret.repair", parameters__repair="removed")
    assert sorted(event.target["namespace"] for event in removals) == sorted(copied)
    assert str(managed.uid) == task.arguments["managed_secret"]


@pytest.mark.django_db
def test_deleting_keeps_the_copies_unless_asked_and_the_api_answers_the_removal_task(fleet):
    make(fleet)
    fleet.resync()
    admin = api_client_as(fleet.members["admin"])
    detail = reverse("api:registry-managed-secret-detail", args=[fleet.tenant.slug, NAME])
    assert admin.delete(detail, {"confirm_name": NAME}, format="json").status_code == 204
    assert not BackgroundTask.objects.filter(name=service.REMOVE_COPIES_TASK).exists()
    assert NAME in linked_secrets(fleet.core, fleet.namespaces[0])

    make(fleet)  # a new managed secret of the same name: the copies left behind are not its own
    fleet.resync()
    assert set(states(fleet, ManagedPullSecret.objects.get()).values()) == {"unmanaged"}
    answer = admin.delete(detail, {"confirm_name": NAME, "remove_copies": True}, format="json")
    assert answer.status_code == 202 and answer.json()["name"] == service.REMOVE_COPIES_TASK
    task = BackgroundTask.objects.get(pk=answer.json()["id"])
    assert service.managed_secret_remove_copies_task(progress=_no_progress, **task.arguments) == {"removed": []}
    assert NAME in linked_secrets(fleet.core, fleet.namespaces[0])


@pytest.mark.django_db
def test_a_reconcile_that_was_already_running_writes_nothing_once_the_secret_is_deleted(fleet):
    managed = make(fleet)
    running = ManagedPullSecret.objects.get(pk=managed.pk)  # what the worker loaded before the deletion
    service.managed_secret_delete(actor=fleet.members["admin"], managed=managed, confirm_name=NAME)
    assert service.managed_secret_reconcile(managed=running).repaired == []
    for namespace in fleet.namespaces:
        assert fleet.core.list_namespaced_secret(namespace, field_selector=f"metadata.name={NAME}").items == []


@pytest.mark.django_db
def test_the_navigation_links_the_managed_secrets_for_members_and_platform_admins_only(fleet, client, admin_user):
    link = f'href="{reverse("registry:managed-list")}"'
    nobody = get_user_model().objects.create_user("no-tenant", password="pw-not-used-0")
    for user, shown in ((fleet.members["viewer"], True), (admin_user, True), (nobody, False)):
        client.force_login(user)
        assert (link in client.get(reverse("overview")).content.decode()) is shown, user


@pytest.mark.django_db
def test_the_detail_page_offers_each_role_only_the_buttons_it_may_press(fleet, client):
    make(fleet)
    detail = reverse("registry:managed-detail", args=[fleet.tenant.slug, NAME])
    offered = {
        "viewer": set(),
        "operator": {"Repair now", "Rotate source"},
        "admin": {"Repair now", "Rotate source", "Settings", "Stop managing"},
    }
    for role, buttons in offered.items():
        client.force_login(fleet.members[role])
        page = client.get(detail).content.decode()
        assert {button for button in offered["admin"] if f">{button}</" in page} == buttons, role
