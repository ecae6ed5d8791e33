"""A tenant's Ceph key lives as long as its binding, on the real cluster: deleting or moving the binding
revokes it (or is refused while Ceph cannot be reached), and keys that outlived their binding are
listed and revoked by platform admins, on a page and with `manage.py tenant_keys_orphaned`."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from dashboard.audit.models import AuditEvent
from dashboard.core.errors import Conflict
from storage.models import StorageBinding, TenantKeyEntity
from storage.services import tenant_keys
from tests.helpers import admin_tenant_form, binding_row, unique_name

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def known_to_ceph(ceph_admin, entity: str) -> bool:
    try:
        ceph_admin.mon("auth get", entity=entity)
    except AssertionError as failed:
        assert "ENOENT" in str(failed), failed
        return False
    return True


def minted_by_hand(ceph_admin, entity: str, pool: str, namespace: str) -> str:
    """A tenant key made outside Berth's records, as Berth made them before it kept any."""
    cap = f"profile rbd pool={pool} namespace={namespace}"
    ceph_admin.mon("auth get-or-create", entity=entity, caps=["mon", "profile rbd", "osd", cap, "mgr", cap])
    return entity


@pytest.fixture
def keyed(teams, ceph_admin):
    """Tenant A's namespace binding with a key its admin minted; any key left is removed afterwards."""
    entity, _ = tenant_keys.tenant_key_create(actor=teams.members["admin"], binding=teams.binding_a)
    yield entity
    for record in TenantKeyEntity.objects.all():
        ceph_admin.mon("auth rm", entity=record.entity)
    TenantKeyEntity.objects.all().delete()


def test_deleting_a_binding_in_the_admin_revokes_its_key(teams, keyed, admin_client, ceph_admin):
    url, data = admin_tenant_form(admin_client, teams.a)

    answer = admin_client.post(url, {**data, f"{binding_row(data, teams.binding_a)}-DELETE": "on"})

    assert answer.status_code == 302
    assert not StorageBinding.objects.filter(pk=teams.binding_a.pk).exists()
    assert not known_to_ceph(ceph_admin, keyed)
    assert not TenantKeyEntity.objects.exists()
    event = AuditEvent.objects.get(action="storage.binding.keys_revoke")
    assert (event.outcome, event.actor_name, event.tenant_slug) == ("success", "platform-admin", "team-a")


def test_deleting_a_tenant_in_the_admin_revokes_its_keys(teams, keyed, admin_client, ceph_admin):
    answer = admin_client.post(reverse("admin:tenancy_tenant_delete", args=[teams.a.pk]), {"post": "yes"})

    assert answer.status_code == 302
    assert not StorageBinding.objects.filter(tenant_id=teams.a.pk).exists()
    assert not known_to_ceph(ceph_admin, keyed)


def test_moving_a_binding_to_another_namespace_revokes_its_key(teams, keyed, admin_client, ceph_admin):
    url, data = admin_tenant_form(admin_client, teams.a)

    answer = admin_client.post(url, {**data, f"{binding_row(data, teams.binding_a)}-namespace": "team-c"})

    assert answer.status_code == 302
    assert StorageBinding.objects.get(pk=teams.binding_a.pk).namespace == "team-c"
    assert not known_to_ceph(ceph_admin, keyed)


def test_while_ceph_is_unreachable_the_admin_refuses_and_deletes_nothing(
    teams, keyed, admin_client, ceph_admin, ceph_out_of_reach
):
    url, data = admin_tenant_form(admin_client, teams.a)
    refused = admin_client.post(url, {**data, f"{binding_row(data, teams.binding_a)}-DELETE": "on"}, follow=True)

    page = refused.content.decode()
    # Whether the place still holds images is asked first, so the refusal names the cluster, not the key.
    assert "Nothing was saved or deleted." in page and "unreachable" in page, page
    assert StorageBinding.objects.filter(pk=teams.binding_a.pk).exists()

    refused = admin_client.post(reverse("admin:tenancy_tenant_delete", args=[teams.a.pk]), {"post": "yes"}, follow=True)
    assert "Nothing was saved or deleted." in refused.content.decode()
    refused = admin_client.post(
        reverse("admin:tenancy_tenant_changelist"),
        {"action": "delete_selected", "_selected_action": [teams.a.pk], "post": "yes"},
        follow=True,
    )
    assert "Nothing was saved or deleted." in refused.content.decode()
    assert StorageBinding.objects.filter(pk=teams.binding_a.pk).exists()
    assert known_to_ceph(ceph_admin, keyed)

    ceph_out_of_reach()
    url, data = admin_tenant_form(admin_client, teams.a)
    assert admin_client.post(url, {**data, f"{binding_row(data, teams.binding_a)}-DELETE": "on"}).status_code == 302
    assert not known_to_ceph(ceph_admin, keyed)


def test_a_binding_cannot_be_deleted_or_moved_past_its_keys(teams, keyed):
    for change in (teams.binding_a.delete, teams.a.delete):
        with pytest.raises(Conflict) as refused:
            change()
        assert refused.value.code == "tenant_keys_not_revoked" and keyed in refused.value.message
    teams.binding_a.namespace = "team-c"
    with pytest.raises(Conflict):
        teams.binding_a.save()
    assert StorageBinding.objects.get(pk=teams.binding_a.pk).namespace == "team-a"


def test_a_slug_rename_changes_nothing_about_the_key(teams, keyed, ceph_admin):
    teams.a.slug = "team-a-renamed"
    teams.a.save()
    binding = StorageBinding.objects.select_related("tenant").get(pk=teams.binding_a.pk)

    assert tenant_keys.tenant_key_entity(binding) == keyed
    assert tenant_keys.tenant_key_exists(actor=teams.members["admin"], binding=binding)
    tenant_keys.tenant_key_revoke(actor=teams.members["admin"], binding=binding)
    assert not known_to_ceph(ceph_admin, keyed)


def test_a_key_named_the_old_way_is_still_found_and_revoked(teams, ceph_cluster, ceph_admin):
    # Before key ids, keys were named after the tenant's slug at the time and the binding's id.
    old = minted_by_hand(
        ceph_admin, f"client.berth-tenant-team-a-before-a-rename-{teams.binding_a.pk}", teams.pool, "team-a"
    )

    output = io.StringIO()
    call_command("tenant_keys_orphaned", "--adopt", old, stdout=output)

    assert f"Recorded {old} as the key of {teams.binding_a}." in output.getvalue()
    assert tenant_keys.tenant_key_exists(actor=teams.members["admin"], binding=teams.binding_a)
    assert tenant_keys.find_orphans(ceph_cluster) == []
    tenant_keys.tenant_key_revoke(actor=teams.members["admin"], binding=teams.binding_a)
    assert not known_to_ceph(ceph_admin, old)


def test_platform_admins_list_and_revoke_keys_without_a_binding(teams, keyed, ceph_cluster, ceph_admin, admin_client):
    orphan = minted_by_hand(ceph_admin, f"client.berth-tenant-gone-{unique_name('x')}-99999", teams.pool, "team-a")
    tenant_keys.adopt_entity(ceph_cluster, orphan)

    listing = admin_client.get(reverse("storage:tenant-key-orphans"))
    assert listing.status_code == 200
    page = listing.content.decode()
    assert orphan in page and "tenant team-a" in page and "its binding was deleted" in page
    assert keyed not in page  # a binding's own key is not an orphan

    tenant_admin = Client()
    tenant_admin.force_login(teams.members["admin"])
    assert tenant_admin.get(reverse("storage:tenant-key-orphans")).status_code == 403
    assert tenant_admin.post(reverse("storage:tenant-key-orphan-revoke", args=[orphan])).status_code == 403
    assert known_to_ceph(ceph_admin, orphan)
    assert admin_client.post(reverse("storage:tenant-key-orphan-revoke", args=[keyed])).status_code == 404
    assert known_to_ceph(ceph_admin, keyed)

    confirm = admin_client.get(reverse("storage:tenant-key-orphan-revoke", args=[orphan]))
    assert confirm.status_code == 200 and "Revoke key" in confirm.content.decode()
    assert admin_client.post(reverse("storage:tenant-key-orphan-revoke", args=[orphan])).status_code == 302

    assert not known_to_ceph(ceph_admin, orphan)
    event = AuditEvent.objects.get(action="storage.tenant_key.orphan_revoke", outcome="success")
    assert event.actor_name == "platform-admin" and event.target["entity"] == orphan


def test_the_command_lists_revokes_and_forgets_orphans(teams, keyed, ceph_cluster, ceph_admin):
    orphan = minted_by_hand(ceph_admin, f"client.berth-tenant-gone-{unique_name('y')}-99998", teams.pool, "team-b")
    output = io.StringIO()

    call_command("tenant_keys_orphaned", "--adopt", orphan, stdout=output)
    assert f"{orphan}\t{teams.pool}/team-b (now bound to tenant team-b)\tits binding was deleted" in output.getvalue()
    assert keyed not in output.getvalue()
    assert known_to_ceph(ceph_admin, orphan)

    call_command("tenant_keys_orphaned", "--revoke", stdout=output)
    assert f"Revoked {orphan}." in output.getvalue()
    assert not known_to_ceph(ceph_admin, orphan)
    assert AuditEvent.objects.get(action="storage.tenant_key.orphan_revoke").source == "cli"

    call_command("tenant_keys_orphaned", "--forget", keyed, stdout=output)
    assert not TenantKeyEntity.objects.exists() and known_to_ceph(ceph_admin, keyed)
    ceph_admin.mon("auth rm", entity=keyed)
    with pytest.raises(CommandError, match="is not a tenant key"):
        call_command("tenant_keys_orphaned", "--adopt", "client.admin")
