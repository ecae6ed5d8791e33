"""The site both accessibility sweeps look at (tests/browser/accessibility/sweep.py)."""

import pytest
from django.contrib.auth import get_user_model

from dashboard.tasks.models import BackgroundTask
from dashboard.tenancy.models import Membership, Tenant
from registry.dockerconfig import Credential
from registry.models import Notification, RegistryQuota
from registry.services.managed import RECONCILE_TASK, managed_secret_create
from registry.services.notifications import notification_dismiss, notify, webhook_create
from registry.services.secrets import secret_create
from storage.models import StorageBinding, StorageQuota
from storage.services.images import image_create, image_delete
from storage.services.metadata import image_metadata_set
from storage.services.namespaces import namespace_create
from storage.services.pools import pool_create, pool_delete
from storage.services.qos import image_qos_set
from storage.services.snapshot_schedules import snapshot_schedule_create
from storage.services.snapshots import snapshot_create
from storage.services.trash import trash_list
from storage.validation import MiB
from tests.browser.accessibility.sweep import HARBOR, MANAGED, NAMESPACE, VIEWER, WEBHOOK, Site
from tests.fixtures.berth import TEST_PASSWORD
from tests.helpers import failing_pod, unique_name, wait_for_task


@pytest.fixture
def site(transactional_db, ceph_cluster, kube_cluster, core, namespace, admin_user):
    pool = unique_name("a11y")
    pool_create(actor=admin_user, cluster=ceph_cluster, name=pool, pg_num=8)
    namespace_create(actor=admin_user, cluster=ceph_cluster, pool=pool, name=NAMESPACE)
    where = {"actor": admin_user, "cluster": ceph_cluster, "pool": pool, "namespace": NAMESPACE}
    for name in ("web-data", "old-data", "scratch"):
        image_create(**where, name=name, size=64 * MiB)
    snapshot_create(**where, image="web-data", snapshot="before-upgrade")
    snapshot_schedule_create(**where, image="web-data", frequency="hourly", keep=24)
    image_qos_set(**where, name="web-data", changes={"rbd_qos_iops_limit": 500})
    image_metadata_set(**where, name="web-data", key="owner", value="web team")
    image_delete(**where, name="old-data")
    [trashed] = trash_list(**where)
    task = image_delete(**where, name="scratch", to_trash=False, confirm_name="scratch")
    assert task is not None
    wait_for_task(task)

    tenant = Tenant.objects.create(name="Team A", slug="team-a")
    binding = StorageBinding.objects.create(tenant=tenant, cluster=ceph_cluster, pool=pool, namespace=NAMESPACE)
    StorageQuota.objects.create(tenant=tenant, max_images=5, max_provisioned_gib=60)
    RegistryQuota.objects.create(tenant=tenant, kube_cluster=kube_cluster, namespaces=[namespace])
    viewer = get_user_model().objects.create_user(VIEWER, password=TEST_PASSWORD)
    Membership.objects.create(user=viewer, tenant=tenant, role=Membership.VIEWER)

    secret_create(
        actor=admin_user,
        cluster=kube_cluster,
        namespaces=[namespace],
        name="regkey",
        credentials=[Credential(server=HARBOR, username="robot", password="Harbor-pass-2c4d")],
    )
    managed_secret_create(
        actor=admin_user, tenant=tenant, name=MANAGED[1], source_namespace=namespace, source_name="regkey"
    )
    wait_for_task(BackgroundTask.objects.get(name=RECONCILE_TASK))
    failing_pod(core, namespace, "web", f"{HARBOR}/team/web:1.2")
    webhook_create(actor=admin_user, name=WEBHOOK, url="http://127.0.0.1:9/hooks/token", secret="A11y-signing-secret-1")
    sent = notify(None, Notification.DRIFT_FOUND, "a copy of team-pull differs", {})
    notification_dismiss(actor=admin_user, notification_id=sent.pk)  # its banner would be on every page
    yield Site(pool=pool, kube_namespace=namespace, task_id=str(task.id), trash_id=trashed.id, binding_id=binding.pk)
    pool_delete(actor=admin_user, cluster=ceph_cluster, name=pool, confirm_name=pool)
