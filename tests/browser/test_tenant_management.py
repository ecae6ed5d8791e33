"""Tenant management in Berth's own pages, in a real browser: a platform admin creates a tenant, binds a
new RBD namespace to it (created in the same step), sets its quotas and adds a member; the member creates
an image in it; unbinding the namespace is then refused. Each management page passes axe (no serious or
critical violation), fits a 390 px screen, and is photographed to test-artifacts/screenshots/."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import expect

from storage.models import StorageBinding
from storage.services.pools import pool_create, pool_delete
from tests.browser.accessibility.sweep import DESKTOP, PHONE, Audit, log_in
from tests.fixtures.berth import TEST_PASSWORD
from tests.helpers import unique_name

pytestmark = pytest.mark.browser

MEMBER = "web-operator"


def refused_in_place(page, text: str) -> None:
    """The refusal htmx swapped into the form, once the form's busy indicator has faded out again (axe
    would otherwise measure the contrast of its half-transparent text)."""
    expect(page.get_by_role("alert").filter(has_text=text)).to_be_visible()
    expect(page.locator("#object-form-busy")).to_have_css("opacity", "0")


@pytest.fixture
def empty_pool(transactional_db, ceph_cluster, admin_user):
    name = unique_name("ui-manage")
    pool_create(actor=admin_user, cluster=ceph_cluster, name=name, pg_num=8)
    yield name
    pool_delete(actor=admin_user, cluster=ceph_cluster, name=name, confirm_name=name)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_create_bind_set_quotas_add_member_then_unbind_is_refused(
    browser, live_server, empty_pool, admin_user, ceph_admin, kube_cluster, namespace, viewport
):
    get_user_model().objects.create_user(MEMBER, password=TEST_PASSWORD)
    slug = f"web-{'phone' if viewport == PHONE else 'desktop'}"
    rbd_namespace = f"{slug}-ns"
    base = live_server.url
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    audit = Audit(page, "platform-admin", viewport)
    log_in(page, base, admin_user.username)

    page.goto(f"{base}{reverse('tenant-list')}")
    page.get_by_role("link", name="Add a tenant").click()
    audit.check("tenant-create")
    page.get_by_label("Name").fill("Web shop")
    page.get_by_label("Slug").fill(slug)
    page.get_by_role("button", name="Create tenant").click()
    expect(page.get_by_role("heading", name="Tenant Web shop")).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("Tenant Web shop created.")
    audit.check("tenant-detail-new")

    page.get_by_role("link", name="Bind storage").click()
    audit.check("tenant-bind")
    page.get_by_label("Pool").select_option(empty_pool)
    page.get_by_label("RBD namespace").fill(rbd_namespace)
    page.get_by_role("button", name="Bind").click()
    expect(page.get_by_role("link", name=rbd_namespace, exact=True)).to_be_visible()
    assert rbd_namespace in ceph_admin.rbd("namespace", "ls", empty_pool)

    page.get_by_role("link", name="Edit quota").click()
    page.get_by_label("Max images").fill("3")
    page.get_by_label("Max provisioned GiB").fill("10")
    audit.check("tenant-quota")
    page.get_by_role("button", name="Save quota").click()
    expect(page.get_by_label("Images used")).to_have_attribute("max", "3")

    page.get_by_role("link", name="Edit registry quota").click()
    page.get_by_label(namespace).check()
    page.get_by_label("Pull secrets per namespace").fill("2")
    audit.check("tenant-registry-quota")
    page.get_by_role("button", name="Save registry quota").click()
    expect(page.get_by_test_id("registry-quota")).to_contain_text(namespace)

    page.get_by_label("Username").fill(MEMBER)
    page.get_by_label("Role").select_option("operator")
    page.get_by_role("button", name="Add or change member").click()
    expect(page.get_by_role("cell", name=MEMBER)).to_be_visible()
    audit.check("tenant-detail-set-up")

    page.get_by_role("link", name="Edit tenant").click()
    audit.check("tenant-edit")
    page.get_by_label("Description").fill("The shop's front end")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The shop's front end")).to_be_visible()

    member = context.browser.new_context(viewport=viewport).new_page()
    member.set_default_timeout(15_000)
    log_in(member, base, MEMBER)
    image_create = reverse("storage:image-create", args=[empty_pool])
    member.goto(f"{base}{image_create}?namespace={rbd_namespace}")
    member.get_by_label("Image name").fill("shop-data")
    member.get_by_label("Size", exact=True).fill("1")
    member.get_by_role("button", name="Create image").click()
    expect(member.locator('[data-testid="image-row"][data-name="shop-data"]')).to_be_visible()
    member.context.close()

    binding = StorageBinding.objects.get(tenant__slug=slug)
    page.goto(f"{base}{reverse('tenant-detail', args=[slug])}")
    page.get_by_role("link", name=f"Unbind {binding}").click()
    audit.check("tenant-unbind")
    page.get_by_role("button", name="Unbind").click()
    refused_in_place(page, "still holds 1 image")
    audit.check("tenant-unbind-refused")
    assert StorageBinding.objects.filter(pk=binding.pk).exists()

    page.goto(f"{base}{reverse('tenant-delete', args=[slug])}")
    page.get_by_label("Type the name to confirm").fill(slug)
    page.get_by_role("button", name="Delete").click()
    refused_in_place(page, f"Tenant {slug} is left as it is")
    audit.check("tenant-delete-refused")
    context.close()

    if audit.problems:
        pytest.fail("\n".join(audit.problems), pytrace=False)
