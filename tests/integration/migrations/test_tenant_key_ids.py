"""Bindings made before key ids get one each, and the names their keys had until then (after the tenant's
slug at minting time, which the audit log remembers across renames) are recorded as theirs, so
deleting the binding still revokes them. Run in subprocesses against a SQLite file of its own."""

import json

import pytest

from tests.integration.migrations.test_core_apps_move import _manage, migrations_then

pytestmark = [pytest.mark.integration, pytest.mark.long]

BEFORE_KEY_IDS = ["storage", "0003_cluster_record_help_texts"]

POPULATE = r"""
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

executor = MigrationExecutor(connection)
apps = executor.loader.project_state(sorted(executor.loader.applied_migrations)).apps
model = lambda label: apps.get_model(*label.split("."))
ceph = model("storage.CephCluster").objects.create(name="ceph-a", client_name="client.berth",
                                                   mon_host="v2:127.0.0.1:3300", key_path="/k")
a = model("tenancy.Tenant").objects.create(name="Team A", slug="team-a")
b = model("tenancy.Tenant").objects.create(name="Team B", slug="team-b")
Binding = model("storage.StorageBinding")
Binding.objects.create(tenant=a, cluster=ceph, pool="rbd", namespace="ns-a")
Binding.objects.create(tenant=b, cluster=ceph, pool="pool-b", namespace="")
Event = model("audit.AuditEvent")
for slug, outcome in (("team-a-before-the-rename", "success"), ("team-a-refused", "denied")):
    Event.objects.create(actor_name="a-admin", tenant_slug=slug, source="ui", action="storage.tenant_key.create",
                         target={"binding": "ceph-a:rbd/ns-a"}, parameters={}, outcome=outcome, hash="x")
"""

CHECK = r"""
import json
from storage.models import StorageBinding, TenantKeyEntity

a = StorageBinding.objects.get(namespace="ns-a")
print(json.dumps({
    "key_ids": len({str(binding.key_id) for binding in StorageBinding.objects.all()}),
    "entities": sorted([record.entity, str(record.binding)] for record in TenantKeyEntity.objects.all()),
    "a": a.pk,
}))
"""


def test_bindings_get_key_ids_and_keep_the_keys_named_the_old_way(tmp_path):
    database = tmp_path / "before-key-ids.sqlite3"
    _manage(database, "shell", "-c", migrations_then([], BEFORE_KEY_IDS, script=POPULATE))

    _manage(database, "migrate")
    facts = json.loads(_manage(database, "shell", "-c", CHECK).strip().splitlines()[-1])

    assert facts["key_ids"] == 2
    assert facts["entities"] == [
        [f"client.berth-tenant-team-a-{facts['a']}", "ceph-a:rbd/ns-a"],
        [f"client.berth-tenant-team-a-before-the-rename-{facts['a']}", "ceph-a:rbd/ns-a"],
    ]
