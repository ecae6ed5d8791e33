"""Background tasks and the Activity page under tenancy: a tenant user sees the tasks it started
and those on its tenants' places, its tenant's admins see the tenant's events; another tenant's
task or events answer as missing ones do."""

import uuid

import pytest
from django.urls import reverse

from dashboard.audit.services import record_event
from dashboard.core.errors import NotFound, PermissionDenied
from dashboard.tasks.services import task_get, task_list
from storage.services import images
from tests.helpers import api_client_as, wait_for_task

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def removal_task(actor, teams, cluster, ceph_admin, namespace: str):
    """A real background task: removing an image of `namespace` for good."""
    name = f"doomed-{uuid.uuid4().hex[:8]}"
    ceph_admin.create_image(f"{teams.pool}/{namespace}/{name}", "16M")
    return wait_for_task(
        images.image_delete(
            actor=actor,
            cluster=cluster,
            pool=teams.pool,
            namespace=namespace,
            name=name,
            to_trash=False,
            confirm_name=name,
        )
    )


@pytest.fixture
def tasks(teams, ceph_cluster, ceph_admin, admin_user):
    """Tenant A's admin's task, a platform admin's task in tenant A's namespace, tenant B's admin's task."""
    return {
        "a": removal_task(teams.members["admin"], teams, ceph_cluster, ceph_admin, "team-a"),
        "staff-in-a": removal_task(admin_user, teams, ceph_cluster, ceph_admin, "team-a"),
        "b": removal_task(teams.outsider, teams, ceph_cluster, ceph_admin, "team-b"),
    }


def test_tenant_users_see_their_tenants_tasks_only(teams, tasks, admin_user):
    viewer_sees = {task.id for task in task_list(actor=teams.members["viewer"])}
    assert viewer_sees == {tasks["a"].id, tasks["staff-in-a"].id}
    assert {task.id for task in task_list(actor=teams.outsider)} == {tasks["b"].id}
    assert {task.id for task in task_list(actor=admin_user)} >= {task.id for task in tasks.values()}

    assert task_get(actor=teams.members["viewer"], task_id=tasks["staff-in-a"].id).id == tasks["staff-in-a"].id
    with pytest.raises(NotFound) as hidden:
        task_get(actor=teams.members["viewer"], task_id=tasks["b"].id)
    with pytest.raises(NotFound) as missing:
        task_get(actor=teams.members["viewer"], task_id=uuid.uuid4())
    assert hidden.value.code == missing.value.code == "task_not_found"


def test_another_tenants_task_is_404_in_the_api_and_the_ui(teams, tasks, client):
    api = api_client_as(teams.members["operator"])
    listed = api.get(reverse("api:task-list")).json()
    assert {task["id"] for task in listed} == {str(tasks["a"].id), str(tasks["staff-in-a"].id)}
    assert api.get(reverse("api:task-detail", args=[tasks["a"].id])).status_code == 200
    other = api.get(reverse("api:task-detail", args=[tasks["b"].id]))
    assert other.status_code == 404 and other.json()["code"] == "task_not_found"

    client.force_login(teams.members["operator"])
    assert client.get(reverse("task-status", args=[tasks["a"].id])).status_code == 200
    assert client.get(reverse("task-status", args=[tasks["b"].id])).status_code == 404


def test_tenant_admins_see_their_tenants_activity(teams, ceph_cluster, client, admin_user):
    images.image_create(
        actor=teams.members["operator"],
        cluster=ceph_cluster,
        pool=teams.pool,
        namespace="team-a",
        name=f"a-{uuid.uuid4().hex[:6]}",
        size="16MiB",
    )
    images.image_create(
        actor=teams.outsider,
        cluster=ceph_cluster,
        pool=teams.pool,
        namespace="team-b",
        name=f"b-{uuid.uuid4().hex[:6]}",
        size="16MiB",
    )
    with pytest.raises(NotFound):
        images.image_list(actor=teams.outsider, cluster=ceph_cluster, pool=teams.pool, namespace="team-a")
    with pytest.raises(PermissionDenied):
        images.image_create(
            actor=teams.members["viewer"],
            cluster=ceph_cluster,
            pool=teams.pool,
            namespace="team-a",
            name="not-allowed",
            size="16MiB",
        )

    client.force_login(teams.members["admin"])
    page = client.get(reverse("activity")).content.decode()
    assert "a-operator" in page and "team-a" in page
    assert "b-admin" not in page and "team-b" not in page

    fragment = client.get(reverse("activity"), {"outcome": "denied"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<form" not in fragment and 'id="activity-table"' in fragment
    assert "a-viewer" in fragment and "a-operator" not in fragment

    for role in ("viewer", "operator"):
        client.force_login(teams.members[role])
        assert client.get(reverse("activity")).status_code == 403
    client.force_login(admin_user)
    everything = client.get(reverse("activity"), {"tenant": "team-b"}).content.decode()
    assert "b-admin" in everything and "a-operator" not in everything


def test_tenant_activity_paginates(teams, client):
    for index in range(55):
        record_event(
            actor=teams.members["operator"],
            action="storage.image.create",
            target={"n": index},
            parameters={},
            outcome="success",
            tenant=teams.a,
        )
    record_event(
        actor=teams.outsider, action="storage.image.create", target={}, parameters={}, outcome="success", tenant=teams.b
    )
    client.force_login(teams.members["admin"])
    assert "1–50 of 55" in client.get(reverse("activity")).content.decode()
    second = client.get(reverse("activity"), {"page": 2}, HTTP_HX_REQUEST="true").content.decode()
    assert "51–55 of 55" in second
