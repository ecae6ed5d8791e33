"""A tenant's managed pull secret in a real browser, against the real kube-apiserver and the
background worker: created from a source Secret, its fleet comes into line; a copy edited by hand
(through the Kubernetes API, as someone with kubectl would) shows as "differs" until "repair now"
brings it back, the reconcile's progress shown on the way; then it is deleted together with its
copies. Each page passes axe and is photographed (test-artifacts/screenshots/, as the accessibility
suite does)."""

import base64
import json
import threading

import pytest
from kubernetes import client
from playwright.sync_api import Page, expect

from dashboard.tenancy.models import Tenant
from registry.models import RegistryQuota
from tests.browser.accessibility.sweep import DESKTOP, Audit, log_in
from tests.helpers import linked_secrets

pytestmark = pytest.mark.browser

NAME = "team-pull"


def dockerconfigjson(server: str, username: str, password: str) -> dict[str, str]:
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    document = {"auths": {server: {"username": username, "password": password, "auth": auth}}}
    return {".dockerconfigjson": base64.b64encode(json.dumps(document).encode()).decode()}


def row(page: Page, namespace: str):
    return page.locator(f'[data-testid="fleet-row"][data-namespace="{namespace}"]')


def paused(worker) -> threading.Thread:
    """Stops the test's task worker (tests/fixtures/tasks.py) once it is idle; answers the thread that
    resumes it, which the fixture stops with the worker at the end."""
    worker.running = False
    for thread in threading.enumerate():
        if thread.name == "berth-test-worker":
            thread.join(timeout=30)
    worker.running = True
    return threading.Thread(target=worker.run, name="berth-test-worker", daemon=True)


def test_fleet_comes_into_line_a_hand_edited_copy_is_repaired_and_deleting_removes_the_copies(
    browser, live_server, task_worker, admin_user, kube_cluster, core, namespace, second_namespace, htpasswd_registry
):
    server = htpasswd_registry.url.removeprefix("http://")
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="registry-login"),
            type="kubernetes.io/dockerconfigjson",
            data=dockerconfigjson(server, htpasswd_registry.username, htpasswd_registry.password),
        ),
    )
    tenant = Tenant.objects.create(name="Team A", slug="team-a")
    RegistryQuota.objects.create(tenant=tenant, kube_cluster=kube_cluster, namespaces=[namespace, second_namespace])
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(20_000)
    audit = Audit(page, "platform-admin", DESKTOP)
    log_in(page, live_server.url, admin_user.username)

    page.get_by_role("link", name="Managed secrets").click()
    expect(page.get_by_test_id("managed-empty")).to_be_visible()
    page.get_by_role("link", name="New managed pull secret").click()
    page.get_by_label("Tenant").select_option("team-a")
    page.get_by_label("Secret name").fill(NAME)
    page.get_by_label("Source namespace").fill(namespace)
    page.get_by_label("Source secret").fill("registry-login")
    audit.check("managed-create-filled")
    page.get_by_role("button", name="Create").click()

    expect(page.get_by_role("heading", name=f"Managed pull secret {NAME}")).to_be_visible()
    for target in (namespace, second_namespace):
        expect(row(page, target)).to_have_attribute("data-state", "in sync")
    expect(page.get_by_test_id("fleet-table")).to_contain_text(second_namespace)
    audit.check("managed-fleet-in-sync")
    assert linked_secrets(core, second_namespace) == [NAME]

    copy = core.read_namespaced_secret(NAME, second_namespace)
    copy.data = dockerconfigjson(server, "someone", "edited-by-hand")
    core.replace_namespaced_secret(NAME, second_namespace, copy)
    page.reload()
    expect(row(page, second_namespace)).to_have_attribute("data-state", "differs")
    expect(row(page, namespace)).to_have_attribute("data-state", "in sync")
    audit.check("managed-fleet-differs")

    # The worker pauses, so the page is seen while the repair is still to run; then it goes on.
    worker = paused(task_worker)
    page.get_by_role("button", name="Repair now").click()
    expect(page.locator("#toasts")).to_contain_text(f"Repairing {NAME} in every namespace.")
    task = page.get_by_test_id("reconcile-task")
    expect(task).to_contain_text("queued, 0% done")
    expect(page.get_by_role("progressbar", name="Reconcile progress")).to_be_visible()
    expect(row(page, second_namespace)).to_have_attribute("data-state", "differs")
    audit.check("managed-fleet-repairing")
    worker.start()
    expect(row(page, second_namespace)).to_have_attribute("data-state", "in sync")
    expect(page.get_by_role("progressbar", name="Reconcile progress")).to_have_count(0)
    expect(task.get_by_role("link")).to_have_text("succeeded")
    audit.check("managed-fleet-repaired")
    repaired = core.read_namespaced_secret(NAME, second_namespace)
    assert repaired.data == core.read_namespaced_secret("registry-login", namespace).data

    page.get_by_role("link", name="Stop managing").click()
    expect(page.get_by_test_id("confirm-warning")).to_contain_text("By default the copies stay")
    page.get_by_label("Also delete the copies").check()
    page.get_by_label("Type the name to confirm").fill(NAME)
    audit.check("managed-delete-filled")
    page.get_by_role("button", name="Stop managing").click()
    expect(page.get_by_test_id("task-status")).to_have_attribute("data-task-status", "succeeded")
    audit.check("managed-delete-task")
    page.get_by_test_id("task-continue").click()
    expect(page.get_by_test_id("managed-empty")).to_be_visible()
    for target in (namespace, second_namespace):
        assert core.list_namespaced_secret(target, field_selector=f"metadata.name={NAME}").items == []
        assert linked_secrets(core, target) == []
    assert core.read_namespaced_secret("registry-login", namespace).data
    context.close()

    assert not audit.problems, "\n".join(audit.problems)
