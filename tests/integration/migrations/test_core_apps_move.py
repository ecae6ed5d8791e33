"""A database made before tenancy, audit and tasks became apps of their own (migration state of
the dashboard app at 0005, as every installation had it) migrates forward with every row intact,
the audit chain still verifying and permissions still attached to the moved models.

Run in subprocesses against a SQLite file of its own, so the rows are written by the historical
models exactly as the code of that time would have written them."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.long]

ROOT = Path(__file__).resolve().parents[3]
BEFORE_THE_MOVE = ["dashboard", "0005_backgroundtask_tenant"]

# Runs under the old migration state: historical models only, as a database of that time held them.
POPULATE = r"""
import datetime as dt, hashlib, json, uuid
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

executor = MigrationExecutor(connection)
apps = executor.loader.project_state(sorted(executor.loader.applied_migrations)).apps
model = lambda label: apps.get_model(*label.split("."))
User = model("auth.User")
owner = User.objects.create(username="owner", is_staff=True)
member = User.objects.create(username="member")
auditor = User.objects.create(username="auditor", is_staff=True)
ct = model("contenttypes.ContentType").objects.get_or_create(app_label="dashboard", model="auditevent")[0]
view_audit = model("auth.Permission").objects.get_or_create(
    content_type=ct, codename="view_auditevent", defaults={"name": "Can view audit event"})[0]
auditor.user_permissions.add(view_audit)
ceph = model("storage.CephCluster").objects.create(name="ceph-a", client_name="client.berth",
                                                   mon_host="v2:127.0.0.1:3300", key_path="/k")
kube = model("registry.KubeCluster").objects.create(name="kube-a", kubeconfig_path="/kubeconfig")
tenant = model("dashboard.Tenant").objects.create(name="Team A", slug="team-a", description="moved")
model("dashboard.Membership").objects.create(user=member, tenant=tenant, role="operator")
model("dashboard.StorageBinding").objects.create(tenant=tenant, cluster=ceph, pool="rbd", namespace="team-a")
model("dashboard.StorageQuota").objects.create(tenant=tenant, max_images=7, max_provisioned_gib=70, max_snapshots=3)
model("dashboard.RegistryQuota").objects.create(tenant=tenant, kube_cluster=kube, namespaces=["team-a", "team-a-ci"],
                                                max_pull_secrets_per_namespace=2)
task = model("dashboard.BackgroundTask").objects.create(id=uuid.UUID(int=42), name="storage.image.copy",
    target={"pool": "rbd", "image": "a"}, actor=member, tenant=tenant, status="running", progress=40)
model("dashboard.QuotaReservation").objects.create(tenant=tenant, task=task, images=1, provisioned_bytes=1 << 30)

# Audit events chained as dashboard/models.py chained them at the time (sha256 over canonical JSON).
FIELDS = ("time", "actor_name", "tenant_slug", "source", "action", "target", "parameters", "outcome",
          "error", "duration_ms", "client_ip", "request_id", "prev_hash")
Event = model("dashboard.AuditEvent")
previous = ""
for number in range(5):
    event = Event(time=dt.datetime(2026, 11, 1, 12, number, tzinfo=dt.timezone.utc), actor=owner, actor_name="owner",
                  tenant_slug="team-a", source="api", action=f"storage.image.create", target={"image": f"i{number}"},
                  parameters={"size": number}, outcome="success", error="", duration_ms=number, client_ip="127.0.0.1",
                  request_id=f"req-{number}", prev_hash=previous)
    content = {name: getattr(event, name) for name in FIELDS}
    content["time"] = event.time.isoformat(timespec="microseconds")
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    event.hash = hashlib.sha256(canonical.encode()).hexdigest()
    event.save()
    previous = event.hash
model("dashboard.AuditChainHead").objects.create(pk=1, last_hash=previous, last_event_id=event.pk)
"""

# Runs on today's code once every migration has been applied.
CHECK = r"""
import json, uuid
from django.contrib.auth.models import User
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import verify_chain
from dashboard.tasks.models import BackgroundTask
from dashboard.tenancy.models import Membership, Tenant
from registry.models import RegistryQuota
from storage.models import QuotaReservation, StorageBinding, StorageQuota

tenant = Tenant.objects.get(slug="team-a")
binding = StorageBinding.objects.get()
quota = StorageQuota.objects.get()
registry_quota = RegistryQuota.objects.get()
task = BackgroundTask.objects.get()
report = verify_chain()
print(json.dumps({
    "tenant": [tenant.name, tenant.description],
    "membership": list(Membership.objects.values_list("user__username", "tenant__slug", "role")),
    "binding": [binding.tenant.slug, binding.cluster.name, binding.pool, binding.namespace],
    "storage_quota": [quota.tenant.slug, quota.max_images, quota.max_provisioned_gib, quota.max_image_gib,
                      quota.max_snapshots],
    "registry_quota": [registry_quota.tenant.slug, registry_quota.kube_cluster.name, registry_quota.namespaces,
                       registry_quota.max_pull_secrets_per_namespace],
    "task": [str(task.id), task.name, task.status, task.progress, task.actor.username, task.tenant.slug],
    "reservations": QuotaReservation.objects.count(),
    "events": AuditEvent.objects.count(),
    "chain": [report.intact, report.events, report.problem],
    "auditor_may_view_events": User.objects.get(username="auditor").has_perm("audit.view_auditevent"),
}))
"""

# Runs on today's code: the chain of plain sha256 events goes on keyed, after a recorded switch.
CONTINUE_KEYED = r"""
import json
from dashboard.audit.models import AuditEvent
from dashboard.audit.services import record_event, verify_chain

record_event(actor=None, action="storage.image.create", target={"image": "after"}, parameters={}, outcome="success")
report = verify_chain()
print(json.dumps({
    "actions": list(AuditEvent.objects.order_by("id").values_list("action", flat=True))[-3:],
    "chain": [report.intact, report.events, report.unkeyed_events, report.problem],
}))
"""


def migrations_then(*targets: list[str], script: str = "") -> str:
    """A `manage.py shell -c` script that migrates to each target in turn, then runs `script`: the steps that
    write one database state share a process, as each new process costs seconds of Django start-up and checks
    (the state is still written by the historical models, and read back by today's code in a fresh process)."""
    steps = "".join(f"call_command({', '.join(map(repr, ['migrate', *target]))}, verbosity=0)\n" for target in targets)
    return f"from django.core.management import call_command\n{steps}{script}"


def _manage(database: Path, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "BERTH_DEBUG": "true"}
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_a_database_from_before_the_move_migrates_with_every_row_and_the_chain_intact(tmp_path):
    database = tmp_path / "before-the-move.sqlite3"
    _manage(database, "shell", "-c", migrations_then(["auth"], BEFORE_THE_MOVE, script=POPULATE))

    _manage(database, "migrate")
    facts = json.loads(_manage(database, "shell", "-c", CHECK).strip().splitlines()[-1])

    assert facts == {
        "tenant": ["Team A", "moved"],
        "membership": [["member", "team-a", "operator"]],
        "binding": ["team-a", "ceph-a", "rbd", "team-a"],
        "storage_quota": ["team-a", 7, 70, None, 3],
        "registry_quota": ["team-a", "kube-a", ["team-a", "team-a-ci"], 2],
        # The in-process thread pool that ran it is gone: tasks 0002 fails it rather than leave it "running".
        "task": [str(uuid.UUID(int=42)), "storage.image.copy", "failed", 40, "member", "team-a"],
        # Reservations belong to changes running processes are making; storage 0004 drops them, as an
        # upgrade restarts every process.
        "reservations": 0,
        "events": 5,
        "chain": [True, 5, ""],
        "auditor_may_view_events": True,
    }
    # Going back to the old state and forth again is possible too (an upgrade that has to be rolled back).
    _manage(database, "shell", "-c", migrations_then(BEFORE_THE_MOVE, []))
    assert json.loads(_manage(database, "shell", "-c", CHECK).strip().splitlines()[-1])["chain"] == [True, 5, ""]

    assert json.loads(_manage(database, "shell", "-c", CONTINUE_KEYED).strip().splitlines()[-1]) == {
        "actions": ["storage.image.create", "audit.chain.rekey", "storage.image.create"],
        "chain": [True, 7, 5, ""],
    }
