"""The "Use in Kubernetes" flows in a real browser, against the real Ceph cluster and kube-apiserver: a
tenant's binding written to Kubernetes from the tenant page, then one of its images made a static volume
from the image page."""

import base64
import uuid
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from kubernetes import client
from playwright.sync_api import Page, expect

from dashboard.tenancy.models import Tenant
from registry.models import RegistryQuota
from storage.models import StorageBinding
from storage.services.images import image_create
from storage.services.namespaces import namespace_create
from storage.services.pools import pool_create, pool_delete
from storage.services.tenant_keys import tenant_key_revoke
from tests.helpers import temporary_namespace

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path("test-artifacts/screenshots")


def axe_and_phone_width(page: Page, name: str) -> None:
    """No serious or critical axe-core finding, and the page fits a 390 px screen (as
    tests/browser/accessibility/ checks the main pages)."""
    page.wait_for_load_state("networkidle")
    findings = Axe().run(page, options={"resultTypes": ["violations"]}).response["violations"]
    blocking = [item for item in findings if item["impact"] in ("serious", "critical")]
    assert [f"{name}: {item['id']} {[node['target'] for node in item['nodes'][:5]]}" for item in blocking] == []
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"admin-phone-{name}.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        if size:
            page.set_viewport_size(size)


@pytest.fixture
def tenant_pool(transactional_db, ceph_cluster, admin_user):
    name = f"ui-kube-{uuid.uuid4().hex[:8]}"
    pool_create(actor=admin_user, cluster=ceph_cluster, name=name, pg_num=8)
    namespace_create(actor=admin_user, cluster=ceph_cluster, pool=name, name="team-a")
    yield name
    pool_delete(actor=admin_user, cluster=ceph_cluster, name=name, confirm_name=name)


@pytest.fixture
def kube_namespaces(kube_admin_api, settings):
    core = client.CoreV1Api(kube_admin_api)
    with temporary_namespace(core, "ceph-csi") as csi, temporary_namespace(core, "team-a-prod") as app:
        settings.BERTH_CSI_NAMESPACE = csi
        yield csi, app
    storage = client.StorageV1Api(kube_admin_api)
    storage.delete_collection_storage_class(label_selector="app.kubernetes.io/managed-by=berth")
    for pv in core.list_persistent_volume(label_selector="app.kubernetes.io/managed-by=berth").items:
        # No pv-protection controller runs on the test cluster to lift the API server's finalizer.
        core.patch_persistent_volume(pv.metadata.name, {"metadata": {"finalizers": None}})
        if pv.metadata.deletion_timestamp is None:
            core.delete_persistent_volume(pv.metadata.name)


def test_binding_then_image_into_kubernetes(
    logged_in_page: Page, live_server, tenant_pool, ceph_cluster, kube_cluster, kube_namespaces, kube_admin_api,
    admin_user,
):  # fmt: skip
    csi_namespace, app_namespace = kube_namespaces
    core = client.CoreV1Api(kube_admin_api)
    team_a = Tenant.objects.create(name="Team A", slug="team-a")
    binding = StorageBinding.objects.create(tenant=team_a, cluster=ceph_cluster, pool=tenant_pool, namespace="team-a")
    RegistryQuota.objects.create(tenant=team_a, kube_cluster=kube_cluster, namespaces=[app_namespace])
    image_create(actor=admin_user, cluster=ceph_cluster, pool=tenant_pool, namespace="team-a", name="db", size="1G")
    page = logged_in_page

    page.goto(f"{live_server.url}/tenants/team-a/")
    page.get_by_role("link", name=f"Use {tenant_pool}/team-a in Kubernetes").click()
    expect(page.get_by_test_id("kube-yaml")).to_contain_text("kind: StorageClass")
    axe_and_phone_width(page, "kubernetes-binding")
    page.get_by_label("Mint a new Ceph key and write it into ceph-csi's Secret").check()
    page.get_by_role("button", name="Write to Kubernetes").click()
    try:
        expect(page.get_by_test_id("key-minted")).to_be_visible()
        expect(page.locator("tr[data-kind=StorageClass]")).to_contain_text("created")
        key = base64.b64decode(core.read_namespaced_secret("berth-team-a-team-a", csi_namespace).data["userKey"])
        assert key.decode() not in page.content()

        page.goto(f"{live_server.url}/storage/pools/{tenant_pool}/images/db/?namespace=team-a")
        page.get_by_role("link", name="Use in Kubernetes").click()
        axe_and_phone_width(page, "kubernetes-image-volume")
        page.get_by_label("Kubernetes namespace").select_option(app_namespace)
        page.get_by_label("Claim name").fill("db-data")
        page.get_by_label("Volume mode").select_option("Block")
        page.get_by_role("button", name="Create volume and claim").click()
        expect(page.get_by_test_id("volume-created")).to_contain_text(f"{app_namespace}/db-data")
        claim = core.read_namespaced_persistent_volume_claim("db-data", app_namespace)
        assert claim.spec.volume_mode == "Block"

        axe_and_phone_width(page, "kubernetes-image-volume-created")
        page.get_by_role("link", name="Back to the image").click()
        expect(page.get_by_test_id("kube-users")).to_contain_text(f"claim {app_namespace}/db-data")
        page.get_by_role("link", name="Delete").first.click()
        page.locator("#object-form").get_by_role("button", name="Delete").click()
        expect(page.get_by_text("is used by Kubernetes")).to_be_visible()
        page.goto(f"{live_server.url}/kubernetes/volumes/stranded/")
        axe_and_phone_width(page, "kubernetes-stranded-volumes")
    finally:
        tenant_key_revoke(actor=admin_user, binding=binding)
