"""Tenant management by platform admins, on the real Ceph cluster and kube-apiserver: creating, editing and
deleting tenants, binding a pool or an RBD namespace (created in the same audited step), unbinding (refused
while the place holds images unless they are kept; the binding's Ceph keys revoked), the registry quota; each
rule refused in the service, with its message and audit event, through the pages and the API alike."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from dashboard.audit.models import AuditEvent
from dashboard.core.errors import BerthError, Conflict, InvalidInput, NotFound, PermissionDenied
from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import Tenant
from registry.dockerconfig import Credential
from registry.models import ManagedPullSecret, RegistryQuota
from registry.services import registry_quota, secrets
from storage.models import StorageBinding, TenantKeyEntity
from storage.services import tenant_bindings, tenant_keys
from tests.helpers import admin_tenant_form, api_client_as, audit_writes_done, binding_row, unique_name

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def namespaces_of(ceph_admin, pool: str) -> list[str]:
    return [entry["name"] for entry in json.loads(ceph_admin.rbd("namespace", "ls", "--format", "json", pool))]


def known_to_ceph(ceph_admin, entity: str) -> bool:
    try:
        ceph_admin.mon("auth get", entity=entity)
    except AssertionError as failed:
        assert "ENOENT" in str(failed), failed
        return False
    return True


@pytest.fixture(autouse=True)
def emptied_afterwards(shared_pool, ceph_admin):
    """The module's tests share one pool: each leaves the teams' namespaces without images."""
    yield
    for namespace in ("team-a", "team-b"):
        ceph_admin.empty(f"{shared_pool}/{namespace}")


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- tenants ------------------------------------------------------------------------------------


def test_a_platform_admin_creates_and_edits_a_tenant(admin_user):
    tenant = tenancy.tenant_create(actor=admin_user, name="Payments", slug="payments", description="Card team")

    assert Tenant.objects.get(slug="payments").name == "Payments"
    [created] = events("tenancy.tenant.create")
    assert (created.outcome, created.tenant_slug, created.target) == ("success", "payments", {"slug": "payments"})

    tenancy.tenant_update(actor=admin_user, tenant=tenant, name="Payments EU", description="")
    assert Tenant.objects.get(slug="payments").name == "Payments EU"
    assert events("tenancy.tenant.update")[0].outcome == "success"


@pytest.mark.parametrize(
    ("slug", "name", "code", "words"),
    [
        ("Not A Slug", "X", "invalid_slug", "slug: lower-case letters"),
        ("create", "X", "invalid_slug", "slug: create names a page under /tenants/"),
        ("team-a", "Another", "tenant_exists", "slug: a tenant team-a exists already."),
        ("team-c", "Team A", "tenant_exists", "name: tenant team-a is already called Team A."),
        ("team-c", "  ", "invalid_name", "name: must not be empty."),
    ],
)
def test_a_tenant_with_a_bad_or_taken_name_is_refused(teams, admin_user, slug, name, code, words):
    with pytest.raises((InvalidInput, Conflict)) as refused:
        tenancy.tenant_create(actor=admin_user, name=name, slug=slug)

    assert refused.value.code == code and refused.value.message.startswith(words)
    assert Tenant.objects.count() == 2


def test_only_platform_admins_create_edit_or_delete_tenants(teams):
    tenant_admin = teams.members["admin"]
    attempts = [
        lambda: tenancy.tenant_create(actor=tenant_admin, name="Mine", slug="mine"),
        lambda: tenancy.tenant_update(actor=tenant_admin, tenant=teams.a, name="Renamed", description=""),
        lambda: tenancy.tenant_delete(actor=tenant_admin, tenant=teams.a, confirm_name="team-a"),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied) as refused:
            attempt()
        assert refused.value.code == "role_denied" and refused.value.message.startswith("Only platform admins may")

    assert not Tenant.objects.filter(slug="mine").exists() and Tenant.objects.get(slug="team-a").name == "Team A"
    outcomes = [event.outcome for event in AuditEvent.objects.filter(action__startswith="tenancy.tenant.")]
    assert outcomes == ["denied"] * 3


def test_deleting_a_tenant_needs_its_slug_typed(teams, admin_user):
    with pytest.raises(InvalidInput) as refused:
        tenancy.tenant_delete(actor=admin_user, tenant=teams.a, confirm_name="Team A")

    assert refused.value.code == "confirmation_mismatch" and refused.value.extra["field"] == "confirm_name"
    assert Tenant.objects.filter(slug="team-a").exists()


def test_a_tenant_owning_images_is_not_deleted(teams, admin_user, ceph_admin):
    ceph_admin.create_image(f"{teams.pool}/team-a/{unique_name('kept')}", "64M")

    with pytest.raises(Conflict) as refused:
        tenancy.tenant_delete(actor=admin_user, tenant=teams.a, confirm_name="team-a")

    assert refused.value.code == "tenant_not_empty"
    assert refused.value.message == (
        "Tenant team-a is left as it is: it still owns 1 RBD image (the trash included): delete them and purge "
        "the trash, or unbind each of its places keeping the images."
    )
    assert StorageBinding.objects.filter(pk=teams.binding_a.pk).exists()
    [event] = events("tenancy.tenant.delete")
    assert (event.outcome, event.tenant_slug) == ("failed", "team-a")


def test_the_django_admin_does_not_delete_a_tenant_owning_images_either(teams, admin_client, ceph_admin):
    ceph_admin.create_image(f"{teams.pool}/team-a/{unique_name('kept')}", "64M")

    refused = admin_client.post(reverse("admin:tenancy_tenant_delete", args=[teams.a.pk]), {"post": "yes"}, follow=True)

    assert "Nothing was saved or deleted. Tenant team-a is left as it is" in refused.content.decode()
    assert Tenant.objects.filter(slug="team-a").exists()


def test_a_tenant_owning_managed_pull_secrets_is_not_deleted(teams, admin_user, kube_cluster, namespace, core):
    RegistryQuota.objects.create(tenant=teams.b, kube_cluster=kube_cluster, namespaces=[namespace])
    secrets.secret_create(
        actor=admin_user,
        cluster=kube_cluster,
        namespaces=[namespace],
        name="regkey",
        credentials=[Credential(server="harbor.example.com", username="robot", password="Harbor-pass-9f1e")],
    )

    with pytest.raises(Conflict) as refused:
        tenancy.tenant_delete(actor=admin_user, tenant=teams.b, confirm_name="team-b")

    assert refused.value.code == "tenant_not_empty"
    assert f"pull secrets Berth manages on Kubernetes cluster {kube_cluster.name} ({namespace}/regkey)" in (
        refused.value.message
    )
    assert "delete them on the Pull secrets page first" in refused.value.message
    assert Tenant.objects.filter(slug="team-b").exists()

    core.delete_namespaced_secret("regkey", namespace)
    tenancy.tenant_delete(actor=admin_user, tenant=teams.b, confirm_name="team-b")
    assert not Tenant.objects.filter(slug="team-b").exists()


def test_a_tenant_with_a_managed_pull_secret_is_not_deleted(teams, admin_user):
    ManagedPullSecret.objects.create(tenant=teams.b, name="shared-key", source_namespace="ci", source_name="source")

    with pytest.raises(Conflict) as refused:
        tenancy.tenant_delete(actor=admin_user, tenant=teams.b, confirm_name="team-b")

    assert refused.value.code == "tenant_not_empty"
    assert "managed pull secrets (shared-key): delete them on the Managed pull secrets page first" in (
        refused.value.message
    )
    assert ManagedPullSecret.objects.filter(tenant=teams.b).exists()


def test_deleting_an_empty_tenant_revokes_its_keys(teams, admin_user, ceph_admin):
    entity, _ = tenant_keys.tenant_key_create(actor=teams.members["admin"], binding=teams.binding_a)
    assert known_to_ceph(ceph_admin, entity)

    tenancy.tenant_delete(actor=admin_user, tenant=teams.a, confirm_name="team-a")

    assert not Tenant.objects.filter(slug="team-a").exists()
    assert not known_to_ceph(ceph_admin, entity) and not TenantKeyEntity.objects.exists()
    assert [event.outcome for event in events("tenancy.tenant.delete")] == ["success"]
    assert events("storage.binding.keys_revoke")[0].tenant_slug == "team-a"


def test_while_ceph_is_unreachable_no_tenant_is_deleted(teams, admin_user, ceph_admin, ceph_out_of_reach):
    with pytest.raises(BerthError) as refused:
        tenancy.tenant_delete(actor=admin_user, tenant=teams.a, confirm_name="team-a")

    assert refused.value.http_status == 503
    assert Tenant.objects.filter(slug="team-a").exists() and StorageBinding.objects.filter(tenant=teams.a).exists()


# --- binding ------------------------------------------------------------------------------------


def test_binding_a_missing_namespace_creates_it_in_one_audited_step(teams, admin_user, ceph_cluster, ceph_admin):
    name = unique_name("new-ns")
    assert name not in namespaces_of(ceph_admin, teams.pool)

    binding = tenant_bindings.storage_binding_create(
        actor=admin_user, tenant=teams.a, cluster=ceph_cluster, pool=teams.pool, namespace=name
    )

    assert name in namespaces_of(ceph_admin, teams.pool)
    assert (binding.tenant, binding.pool, binding.namespace) == (teams.a, teams.pool, name)
    [event] = events("storage.binding.create")
    assert (event.outcome, event.tenant_slug) == ("success", "team-a")
    assert event.parameters == {"namespace_created": True}
    assert event.target["namespace"] == name
    assert not events("storage.namespace.create")


def test_binding_an_existing_namespace_keeps_it(teams, admin_user, ceph_cluster, ceph_admin):
    name = unique_name("old-ns")
    ceph_admin.create_namespace(f"{teams.pool}/{name}")

    tenant_bindings.storage_binding_create(
        actor=admin_user, tenant=teams.b, cluster=ceph_cluster, pool=teams.pool, namespace=name
    )

    assert events("storage.binding.create")[0].parameters == {"namespace_created": False}


def test_binding_clashes_and_missing_pools_are_refused_before_ceph_changes(teams, admin_user, ceph_cluster, ceph_admin):
    before = namespaces_of(ceph_admin, teams.pool)
    with pytest.raises(Conflict) as taken:
        tenant_bindings.storage_binding_create(
            actor=admin_user, tenant=teams.b, cluster=ceph_cluster, pool=teams.pool, namespace="team-a"
        )
    assert taken.value.code == "binding_exists"
    assert taken.value.message == (
        f"Pool {teams.pool} namespace team-a of {ceph_cluster} is bound to tenant team-a already. Unbind it there "
        "first to give it to another tenant."
    )

    with pytest.raises(Conflict) as whole_pool:
        tenant_bindings.storage_binding_create(
            actor=admin_user, tenant=teams.b, cluster=ceph_cluster, pool=teams.pool, namespace=""
        )
    assert whole_pool.value.code == "binding_clash" and "belong to one tenant at most" in whole_pool.value.message

    with pytest.raises(NotFound) as missing:
        tenant_bindings.storage_binding_create(
            actor=admin_user, tenant=teams.b, cluster=ceph_cluster, pool=unique_name("nopool"), namespace="x"
        )
    assert "does not exist on Ceph cluster" in missing.value.message

    assert namespaces_of(ceph_admin, teams.pool) == before
    assert StorageBinding.objects.count() == 2
    assert [event.outcome for event in events("storage.binding.create")] == ["failed", "failed", "failed"]


def test_tenant_admins_cannot_bind_or_unbind(teams, ceph_cluster, ceph_admin):
    tenant_admin = teams.members["admin"]
    with pytest.raises(PermissionDenied):
        tenant_bindings.storage_binding_create(
            actor=tenant_admin, tenant=teams.a, cluster=ceph_cluster, pool=teams.pool, namespace=unique_name("x")
        )
    with pytest.raises(PermissionDenied):
        tenant_bindings.storage_binding_delete(actor=tenant_admin, binding=teams.binding_a, keep_images=True)

    assert StorageBinding.objects.count() == 2
    assert [event.outcome for event in AuditEvent.objects.filter(action__startswith="storage.binding.")] == [
        "denied",
        "denied",
    ]


# --- unbinding ----------------------------------------------------------------------------------


def test_unbinding_a_place_with_images_is_refused_unless_they_are_kept(teams, admin_user, ceph_admin):
    image = unique_name("data")
    ceph_admin.create_image(f"{teams.pool}/team-a/{image}", "64M")

    with pytest.raises(Conflict) as refused:
        tenant_bindings.storage_binding_delete(actor=admin_user, binding=teams.binding_a, keep_images=False)

    assert refused.value.code == "binding_holds_images"
    assert refused.value.message.startswith(f"{teams.binding_a} still holds 1 image of tenant team-a")
    assert "unbind keeping the images" in refused.value.message
    assert StorageBinding.objects.filter(pk=teams.binding_a.pk).exists()

    tenant_bindings.storage_binding_delete(actor=admin_user, binding=teams.binding_a, keep_images=True)

    assert not StorageBinding.objects.filter(pk=teams.binding_a.pk).exists()
    assert image in ceph_admin.rbd("ls", f"{teams.pool}/team-a")
    assert [(event.outcome, event.parameters) for event in events("storage.binding.delete")] == [
        ("failed", {"keep_images": False}),
        ("success", {"keep_images": True}),
    ]


def test_the_django_admin_binds_and_unbinds_by_the_same_rules(teams, admin_client, ceph_cluster, ceph_admin):
    """The admin's inline rows go through the services: a new namespace is created, and a place holding
    images stays bound (keeping them is offered on Berth's tenant page only)."""
    namespace = unique_name("admin-bound")
    url, data = admin_tenant_form(admin_client, teams.b)
    row = int(data["storage_bindings-TOTAL_FORMS"])
    added = {
        "storage_bindings-TOTAL_FORMS": str(row + 1),
        f"storage_bindings-{row}-id": "",
        f"storage_bindings-{row}-tenant": str(teams.b.pk),
        f"storage_bindings-{row}-cluster": str(ceph_cluster.pk),
        f"storage_bindings-{row}-pool": teams.pool,
        f"storage_bindings-{row}-namespace": namespace,
    }
    assert admin_client.post(url, {**data, **added}).status_code == 302
    assert namespace in namespaces_of(ceph_admin, teams.pool)
    assert events("storage.binding.create")[-1].parameters == {"namespace_created": True}

    ceph_admin.create_image(f"{teams.pool}/team-a/{unique_name('data')}", "64M")
    url, data = admin_tenant_form(admin_client, teams.a)
    refused = admin_client.post(url, {**data, f"{binding_row(data, teams.binding_a)}-DELETE": "on"}, follow=True)

    assert "Nothing was saved or deleted." in refused.content.decode()
    assert StorageBinding.objects.filter(pk=teams.binding_a.pk).exists()
    audit_writes_done()  # the admin's transaction rolled back; the refusal's event is written again after it
    assert events("storage.binding.delete")[-1].outcome == "failed"


def test_a_trashed_image_also_keeps_the_place_bound(teams, admin_user, ceph_admin):
    image = f"{teams.pool}/team-a/{unique_name('trashed')}"
    ceph_admin.create_image(image, "64M")
    ceph_admin.trash_image(image)

    with pytest.raises(Conflict):
        tenant_bindings.storage_binding_delete(actor=admin_user, binding=teams.binding_a, keep_images=False)


def test_unbinding_revokes_the_bindings_keys(teams, admin_user, ceph_admin):
    entity, _ = tenant_keys.tenant_key_create(actor=teams.members["admin"], binding=teams.binding_a)

    tenant_bindings.storage_binding_delete(actor=admin_user, binding=teams.binding_a, keep_images=False)

    assert not known_to_ceph(ceph_admin, entity)
    assert not StorageBinding.objects.filter(pk=teams.binding_a.pk).exists()
    assert not TenantKeyEntity.objects.exists()
    [revoked] = events("storage.binding.keys_revoke")
    assert (revoked.outcome, revoked.tenant_slug) == ("success", "team-a")


def test_while_ceph_is_unreachable_a_keyed_binding_stays(teams, admin_user, ceph_admin, request):
    entity, _ = tenant_keys.tenant_key_create(actor=teams.members["admin"], binding=teams.binding_a)
    request.addfinalizer(lambda: ceph_admin.mon("auth rm", entity=entity))
    request.getfixturevalue("ceph_out_of_reach")

    with pytest.raises(BerthError) as refused:
        tenant_bindings.storage_binding_delete(actor=admin_user, binding=teams.binding_a, keep_images=True)

    assert refused.value.code == "tenant_key_not_revoked"
    assert f"its Ceph key {entity} has to be revoked first" in refused.value.message
    assert StorageBinding.objects.filter(pk=teams.binding_a.pk).exists()
    assert known_to_ceph(ceph_admin, entity)


# --- registry quota -----------------------------------------------------------------------------


def test_the_registry_quota_names_namespaces_of_the_cluster(teams, admin_user, kube_cluster, namespace):
    choices = registry_quota.registry_quota_namespace_choices(actor=admin_user, tenant=teams.a, cluster=kube_cluster)
    assert namespace in choices and "default" in choices

    quota = registry_quota.registry_quota_set(
        actor=admin_user,
        tenant=teams.a,
        kube_cluster=kube_cluster,
        namespaces=[namespace],
        max_pull_secrets_per_namespace=3,
    )

    assert (quota.kube_cluster, quota.namespaces, quota.max_pull_secrets_per_namespace) == (
        kube_cluster,
        [namespace],
        3,
    )
    [event] = events("tenancy.registry_quota.set")
    assert (event.outcome, event.tenant_slug) == ("success", "team-a")
    assert event.parameters["namespaces"] == [namespace]

    with pytest.raises(PermissionDenied):
        registry_quota.registry_quota_set(
            actor=teams.members["admin"],
            tenant=teams.a,
            kube_cluster=kube_cluster,
            namespaces=["kube-system"],
            max_pull_secrets_per_namespace=None,
        )
    assert RegistryQuota.objects.get(tenant=teams.a).namespaces == [namespace]


# --- through the pages and the API --------------------------------------------------------------


def test_the_pages_create_bind_and_refuse_to_unbind(teams, admin_user, ceph_admin, kube_cluster, namespace):
    browser = Client()
    browser.force_login(admin_user)

    created = browser.post(reverse("tenant-create"), {"name": "Web", "slug": "web", "description": ""})
    assert created.status_code == 302 and created["Location"] == reverse("tenant-detail", args=["web"])
    name = unique_name("web")
    bound = browser.post(reverse("tenant-bind", args=["web"]), {"pool": teams.pool, "namespace": name})
    assert bound.status_code == 302 and name in namespaces_of(ceph_admin, teams.pool)
    quota = browser.post(
        reverse("tenant-registry-quota", args=["web"]),
        {"namespaces": [namespace], "max_pull_secrets_per_namespace": "2"},
    )
    assert quota.status_code == 302 and RegistryQuota.objects.get(tenant__slug="web").namespaces == [namespace]

    binding = StorageBinding.objects.get(tenant__slug="web")
    ceph_admin.create_image(f"{teams.pool}/{name}/disk", "64M")
    refused = browser.post(reverse("tenant-unbind", args=["web", binding.pk]), {})
    assert refused.status_code == 409 and "still holds 1 image of tenant web" in refused.content.decode()
    refused = browser.post(reverse("tenant-delete", args=["web"]), {"confirm_name": "web"})
    assert refused.status_code == 409 and "Tenant web is left as it is" in refused.content.decode()
    kept = browser.post(reverse("tenant-unbind", args=["web", binding.pk]), {"keep_images": "on"})
    assert kept.status_code == 302 and not StorageBinding.objects.filter(pk=binding.pk).exists()

    page = browser.get(reverse("tenant-detail", args=["web"])).content.decode()
    assert reverse("tenant-bind", args=["web"]) in page and namespace in page


def test_tenant_members_do_not_get_the_management_pages(teams):
    browser = Client()
    browser.force_login(teams.members["admin"])
    for url in (
        reverse("tenant-create"),
        reverse("tenant-edit", args=["team-a"]),
        reverse("tenant-delete", args=["team-a"]),
        reverse("tenant-bind", args=["team-a"]),
        reverse("tenant-unbind", args=["team-a", teams.binding_a.pk]),
        reverse("tenant-registry-quota", args=["team-a"]),
    ):
        assert browser.get(url).status_code == 403, url
    page = browser.get(reverse("tenant-detail", args=["team-a"])).content.decode()
    assert reverse("tenant-bind", args=["team-a"]) not in page and reverse("tenant-delete", args=["team-a"]) not in page


def test_the_api_creates_binds_unbinds_and_deletes(teams, admin_user, ceph_admin):
    api = api_client_as(admin_user)
    created = api.post(reverse("api:tenant-list"), {"slug": "api-team", "name": "API team"}, format="json")
    assert created.status_code == 201 and created.json()["slug"] == "api-team"

    name = unique_name("api-ns")
    bound = api.post(
        reverse("api:tenant-binding-list", args=["api-team"]), {"pool": teams.pool, "namespace": name}, format="json"
    )
    assert bound.status_code == 201 and name in namespaces_of(ceph_admin, teams.pool)
    detail = reverse("api:tenant-binding-detail", args=["api-team", bound.json()["id"]])
    ceph_admin.create_image(f"{teams.pool}/{name}/disk", "64M")

    refused = api.delete(detail, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "binding_holds_images")
    not_empty = api.delete(reverse("api:tenant-detail", args=["api-team"]), {"confirm_name": "api-team"}, format="json")
    assert (not_empty.status_code, not_empty.json()["code"]) == (409, "tenant_not_empty")
    assert api.delete(detail, {"keep_images": True}, format="json").status_code == 204
    deleted = api.delete(reverse("api:tenant-detail", args=["api-team"]), {"confirm_name": "api-team"}, format="json")
    assert deleted.status_code == 204 and not Tenant.objects.filter(slug="api-team").exists()

    member = api_client_as(teams.members["admin"])
    denied = member.post(reverse("api:tenant-list"), {"slug": "mine", "name": "Mine"}, format="json")
    assert (denied.status_code, denied.json()["code"]) == (403, "role_denied")
