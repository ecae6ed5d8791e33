"""What the every-route test sends to each route that accepts POST, PUT, PATCH or DELETE.

A route either has a SAMPLE here — a minimal *valid* request, which must write an audit event
(invalid input is refused by a form before any service runs and changes nothing, so it proves
nothing) — or an entry in NOT_CHANGING with the reason it changes nothing. A new unsafe route
with neither fails the inventory test, naming it.

A `Sample` names the route, the method, the audit action the request must record, and the
request: URL kwargs, query and body, whose "{placeholders}" are filled from what the sample's
`setup(ctx)` made (an image to resize, a secret to rotate; made through the services, with
unique names) plus "{new}", a fresh unique name. Bodies of /api/ routes are sent as JSON, all
others as a form. Samples whose request cannot be written that way give a `build(ctx)` that
returns `(path, body)` instead.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from kubernetes import client as kube_client

from dashboard.tenancy import services as tenancy
from dashboard.tenancy.models import ApiToken, DirectoryRoleRule, ExternalIdentity, PlatformRole, Tenant
from dashboard.tenancy.tokens import api_token_create
from registry.dockerconfig import Credential
from registry.models import KubeCluster, Notification, RegistryQuota
from registry.services import managed, secrets
from registry.services.credential_health import credential_health_check
from registry.services.notifications import notify, webhook_create
from storage.models import CephCluster, StorageBinding, TenantKeyEntity
from storage.services import images, metadata, namespaces, pools, snapshot_schedules, snapshots, tenant_keys, trash
from tests.fixtures.berth import TEST_PASSWORD
from tests.helpers import create_service_account


class SampleContext:
    """What a sample's setup may use: the signed-in admin and their test client, and — started
    only when a sample asks — the real Ceph pool and Kubernetes namespace the module shares."""

    def __init__(self, request, client, admin_user):
        self.request, self.client, self.admin = request, client, admin_user

    @cached_property
    def ceph(self) -> CephCluster:
        return self.request.getfixturevalue("ceph_cluster")

    @cached_property
    def pool(self) -> str:
        _ = self.ceph  # a request for the pool goes to the default cluster, which must be registered
        return self.request.getfixturevalue("storage_pool")

    @cached_property
    def kube(self) -> KubeCluster:
        return self.request.getfixturevalue("kube_cluster")

    @cached_property
    def kube_namespace(self) -> str:
        _ = self.kube  # as for the pool: requests go to the default Kubernetes cluster
        return self.request.getfixturevalue("shared_kube_namespace")

    @cached_property
    def kube_core(self) -> kube_client.CoreV1Api:
        return kube_client.CoreV1Api(self.request.getfixturevalue("kube_admin_api"))

    def storage(self, **where: Any) -> dict[str, Any]:
        """The arguments every storage service takes, for objects in the shared pool."""
        return {"actor": self.admin, "cluster": self.ceph, "pool": self.pool, "namespace": "", **where}

    def new_pool_name(self) -> str:
        """A name for a pool on the default cluster that is deleted after the test, if it exists then."""
        _ = self.ceph
        ceph_admin = self.request.getfixturevalue("ceph_admin")
        name = unique("pool")
        self.request.addfinalizer(lambda: ceph_admin.delete_pool(name) if name in ceph_admin.pools() else None)
        return name


def unique(prefix: str = "audit") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Sample:
    route: str
    method: str
    action: str
    kwargs: dict = field(default_factory=dict)
    body: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    setup: Callable[[SampleContext], dict] | None = None
    build: Callable[[SampleContext], tuple[str, dict]] | None = None

    @property
    def sends_json(self) -> bool:
        return self.route.startswith("api:")

    def prepare(self, ctx: SampleContext) -> tuple[str, dict]:
        if self.build is not None:
            return self.build(ctx)
        names = {"new": unique(), **(self.setup(ctx) if self.setup else {})}
        path = reverse(self.route, kwargs=_filled(self.kwargs, names))
        query = _filled(self.query, names)
        return (f"{path}?{urlencode(query)}" if query else path), _filled(self.body, names)


def _filled(value: Any, names: dict) -> Any:
    if isinstance(value, str):
        return value.format_map(names)
    if isinstance(value, dict):
        return {key: _filled(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item, names) for item in value]
    return value


NEW_PASSWORD = "another-long-passphrase-77"


def _ceph_cluster(name="east") -> CephCluster:
    return CephCluster.objects.create(
        name=name,
        client_name="client.berth",
        conf_path="/etc/ceph/ceph.conf",
        keyring_path="/etc/ceph/ceph.client.berth.keyring",
    )


def _cluster_form(cluster_name="west") -> dict:
    return {
        "name": cluster_name,
        "client_name": "client.berth",
        "conf_path": "/etc/ceph/ceph.conf",
        "keyring_path": "/etc/ceph/k",
        "mon_host": "",
        "key_path": "",
    }


def _password_change(_ctx):
    return reverse("password_change"), {
        "old_password": TEST_PASSWORD,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    }


def _admin_password_change(_ctx):
    return reverse("admin:password_change"), {
        "old_password": TEST_PASSWORD,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    }


def _other_user() -> "get_user_model()":
    return get_user_model().objects.create_user("someone", password=TEST_PASSWORD)


def _changelist_delete(model_admin_url: str, make):
    def build(_ctx):
        obj = make()
        selected = obj._meta.pk.value_from_object(obj)
        return reverse(model_admin_url), {"action": "delete_selected", "_selected_action": [selected], "post": "yes"}

    return build


def _delete(url_name: str, make):
    def build(_ctx):
        return reverse(url_name, args=[make().pk]), {"post": "yes"}

    return build


_ADMIN_AND_ACCOUNT_SAMPLES = {
    ("password_change", "POST"): ("auth.user.password.change", _password_change),
    ("admin:password_change", "POST"): ("auth.user.password.change", _admin_password_change),
    ("admin:auth_user_password_change", "POST"): (
        "auth.user.password.change",
        lambda _ctx: (
            reverse("admin:auth_user_password_change", args=[_other_user().pk]),
            {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        ),
    ),
    ("admin:auth_user_add", "POST"): (
        "admin.auth.user.create",
        lambda _ctx: (
            reverse("admin:auth_user_add"),
            {"username": "newcomer", "usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        ),
    ),
    ("admin:auth_user_change", "POST"): (
        "admin.auth.user.change",
        lambda _ctx: (
            reverse("admin:auth_user_change", args=[_other_user().pk]),
            {
                "username": "someone-renamed",
                "is_active": "on",
                "date_joined_0": "2026-01-01",
                "date_joined_1": "00:00:00",
            },
        ),
    ),
    ("admin:auth_user_delete", "POST"): ("admin.auth.user.delete", _delete("admin:auth_user_delete", _other_user)),
    ("admin:auth_user_changelist", "POST"): (
        "admin.auth.user.delete",
        _changelist_delete("admin:auth_user_changelist", _other_user),
    ),
    ("admin:auth_group_add", "POST"): (
        "admin.auth.group.create",
        lambda _ctx: (reverse("admin:auth_group_add"), {"name": "operators"}),
    ),
    ("admin:auth_group_change", "POST"): (
        "admin.auth.group.change",
        lambda _ctx: (reverse("admin:auth_group_change", args=[Group.objects.create(name="ops").pk]), {"name": "ops2"}),
    ),
    ("admin:auth_group_delete", "POST"): (
        "admin.auth.group.delete",
        _delete("admin:auth_group_delete", lambda: Group.objects.create(name="g")),
    ),
    ("admin:auth_group_changelist", "POST"): (
        "admin.auth.group.delete",
        _changelist_delete("admin:auth_group_changelist", lambda: Group.objects.create(name="g")),
    ),
    ("admin:tenancy_platformrole_add", "POST"): (
        "admin.tenancy.platformrole.create",
        lambda _ctx: (reverse("admin:tenancy_platformrole_add"), {"user": _other_user().pk, "role": "auditor"}),
    ),
    ("admin:storage_cephcluster_add", "POST"): (
        "admin.storage.cephcluster.create",
        lambda _ctx: (reverse("admin:storage_cephcluster_add"), _cluster_form()),
    ),
    ("admin:storage_cephcluster_change", "POST"): (
        "admin.storage.cephcluster.change",
        lambda _ctx: (reverse("admin:storage_cephcluster_change", args=[_ceph_cluster().pk]), _cluster_form("east")),
    ),
    ("admin:storage_cephcluster_delete", "POST"): (
        "admin.storage.cephcluster.delete",
        _delete("admin:storage_cephcluster_delete", _ceph_cluster),
    ),
    ("admin:storage_cephcluster_changelist", "POST"): (
        "admin.storage.cephcluster.delete",
        _changelist_delete("admin:storage_cephcluster_changelist", _ceph_cluster),
    ),
    ("admin:registry_kubecluster_add", "POST"): (
        "admin.registry.kubecluster.create",
        lambda _ctx: (
            reverse("admin:registry_kubecluster_add"),
            {"name": "k1", "kubeconfig_path": "/etc/kube/config", "context": ""},
        ),
    ),
    ("admin:tenancy_tenant_add", "POST"): (
        "admin.tenancy.tenant.create",
        lambda ctx: (
            reverse("admin:tenancy_tenant_add"),
            {
                "name": "Payments",
                "slug": "payments",
                "description": "",
                **_empty_inlines(admin.site._registry[Tenant], _admin_request(ctx)),
            },
        ),
    ),
    ("admin:tenancy_directoryrolerule_add", "POST"): (
        "admin.tenancy.directoryrolerule.create",
        lambda _ctx: (
            reverse("admin:tenancy_directoryrolerule_add"),
            {"group": "payments-ops", "platform_role": "auditor", "tenant": "", "tenant_role": ""},
        ),
    ),
    ("admin:registry_kubecluster_delete", "POST"): (
        "admin.registry.kubecluster.delete",
        _delete(
            "admin:registry_kubecluster_delete", lambda: KubeCluster.objects.create(name="k1", kubeconfig_path="/k")
        ),
    ),
}

# Objects for the admin's generic change/delete samples, one maker per model registered there.
_ADMIN_OBJECT_MAKERS = {
    get_user_model(): _other_user,
    Group: lambda: Group.objects.create(name="g"),
    ApiToken: lambda: api_token_create(actor=_other_user(), name="ci")[0],
    PlatformRole: lambda: PlatformRole.objects.create(user=_other_user(), role=PlatformRole.AUDITOR),
    DirectoryRoleRule: lambda: DirectoryRoleRule.objects.create(group=unique("group"), platform_role="auditor"),
    ExternalIdentity: lambda: ExternalIdentity.objects.create(
        user=_other_user(), source="oidc", issuer="https://idp.example", subject=unique("sub")
    ),
    CephCluster: _ceph_cluster,
    Tenant: lambda: Tenant.objects.create(name=unique("tenant"), slug=unique("tenant")),
    KubeCluster: lambda: KubeCluster.objects.create(name="k1", kubeconfig_path="/k"),
    AccessAttempt: lambda: AccessAttempt.objects.create(
        user_agent="ua",
        ip_address="127.0.0.1",
        username="u",
        http_accept="*/*",
        path_info="/login/",
        get_data="",
        post_data="",
        failures_since_start=3,
    ),
    AccessLog: lambda: AccessLog.objects.create(
        user_agent="ua", ip_address="127.0.0.1", username="u", http_accept="*/*", path_info="/login/"
    ),
    AccessFailureLog: lambda: AccessFailureLog.objects.create(
        user_agent="ua", ip_address="127.0.0.1", username="u", http_accept="*/*", path_info="/login/"
    ),
}


# Models the admin may delete but never change (the POST answers 403; see NOT_CHANGING).
_READ_ONLY_IN_ADMIN = {ApiToken, ExternalIdentity}


def _admin_request(ctx):
    return type("Request", (), {"user": ctx.admin, "method": "GET", "GET": {}, "POST": {}})()


def _empty_inlines(model_admin, request, obj=None) -> dict:
    """The management forms of the admin page's inlines, with no rows (the objects made here have none)."""
    prefixes = [formset.get_default_prefix() for formset, _ in model_admin.get_formsets_with_inlines(request, obj)]
    return {f"{prefix}-{count}": "0" for prefix in prefixes for count in ("TOTAL_FORMS", "INITIAL_FORMS")}


def _unchanged_form(model_admin, make):
    """POST the change form back as it was shown: the admin still saves (and records) it."""

    def build(ctx):
        obj = make()
        request = _admin_request(ctx)
        form = model_admin.get_form(request, obj)(instance=obj)
        data = _empty_inlines(model_admin, request, obj)
        for name in form.fields:
            value = form[name].value()
            if value in (None, False):
                continue
            data[name] = (
                [item.pk if hasattr(item, "pk") else item for item in value]
                if isinstance(value, (list, tuple))
                else (True if value is True else value)
            )
        return reverse(f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_change", args=[obj.pk]), data

    return build


def _admin_samples() -> dict:
    samples = {}
    for model, model_admin in admin.site._registry.items():
        if model not in _ADMIN_OBJECT_MAKERS:
            continue
        make = _ADMIN_OBJECT_MAKERS[model]
        prefix = f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}"
        action = f"admin.{model_admin.opts.app_label}.{model_admin.opts.model_name}"
        samples[(f"{prefix}_delete", "POST")] = (f"{action}.delete", _delete(f"{prefix}_delete", make))
        if model_admin.actions is not None:
            samples[(f"{prefix}_changelist", "POST")] = (
                f"{action}.delete",
                _changelist_delete(f"{prefix}_changelist", make),
            )
        if model not in _READ_ONLY_IN_ADMIN:
            samples[(f"{prefix}_change", "POST")] = (f"{action}.change", _unchanged_form(model_admin, make))
    return samples


# --- storage: each sample makes its own objects in the module's pool ---------------------------

IMAGE_SIZE = 64 << 20


def _in_pool(ctx: SampleContext) -> dict:
    return {"pool": ctx.pool}


def _new_pool(ctx: SampleContext) -> dict:
    return {"new_pool": ctx.new_pool_name()}


def _doomed_pool(ctx: SampleContext) -> dict:
    name = ctx.new_pool_name()
    pools.pool_create(actor=ctx.admin, cluster=ctx.ceph, name=name, pg_num=8)
    return {"doomed_pool": name}


def _rbd_namespace(ctx: SampleContext) -> dict:
    name = namespaces.namespace_create(actor=ctx.admin, cluster=ctx.ceph, pool=ctx.pool, name=unique("ns"))
    return {"pool": ctx.pool, "rbd_namespace": name}


def _image(ctx: SampleContext) -> dict:
    name = unique("image")
    images.image_create(**ctx.storage(name=name, size=IMAGE_SIZE))
    return {"pool": ctx.pool, "image": name}


def _snapshot(ctx: SampleContext, *, protected: bool = False) -> dict:
    names = {**_image(ctx), "snapshot": unique("snap")}
    snapshots.snapshot_create(**ctx.storage(image=names["image"], snapshot=names["snapshot"]))
    if protected:
        snapshots.snapshot_protect(**ctx.storage(image=names["image"], snapshot=names["snapshot"]))
    return names


def _protected_snapshot(ctx: SampleContext) -> dict:
    return _snapshot(ctx, protected=True)


def _clone(ctx: SampleContext) -> dict:
    parent = _protected_snapshot(ctx)
    clone = unique("clone")
    snapshots.image_clone(
        **ctx.storage(
            image=parent["image"], snapshot=parent["snapshot"], dest_pool=ctx.pool, dest_namespace="", dest_name=clone
        )
    )
    return {"pool": ctx.pool, "image": clone}


def _trashed_image(ctx: SampleContext) -> dict:
    names = _image(ctx)
    images.image_delete(**ctx.storage(name=names["image"], to_trash=True))
    [image_id] = [entry.id for entry in trash.trash_list(**ctx.storage()) if entry.name == names["image"]]
    return {**names, "image_id": image_id}


def _image_with_metadata(ctx: SampleContext) -> dict:
    names = _image(ctx)
    metadata.image_metadata_set(**ctx.storage(name=names["image"], key="owner", value="ops"))
    return names


def _snapshot_schedule(ctx: SampleContext) -> dict:
    names = _image(ctx)
    schedule = snapshot_schedules.snapshot_schedule_create(
        **ctx.storage(image=names["image"], frequency="daily", keep=7)
    )
    return {**names, "schedule_id": schedule.pk}


POOL = {"pool": "{pool}"}
SCHEDULE = {"pool": "{pool}", "schedule_id": "{schedule_id}"}
IMAGE = {"pool": "{pool}", "name": "{image}"}
SNAPSHOT = {**IMAGE, "snapshot": "{snapshot}"}
TRASH_ENTRY = {"pool": "{pool}", "image_id": "{image_id}"}
DESTINATION = {"dest_pool": "{pool}", "dest_namespace": "", "dest_name": "{new}"}

STORAGE_UI_SAMPLES = [
    Sample(
        "storage:pool-create",
        "POST",
        "storage.pool.create",
        body={"name": "{new_pool}", "pg_num": "8", "max_bytes": "", "max_objects": ""},
        setup=_new_pool,
    ),
    Sample(
        "storage:pool-quota",
        "POST",
        "storage.pool.set_quota",
        POOL,
        {"max_bytes": "100GiB", "max_objects": ""},
        setup=_in_pool,
    ),
    Sample(
        "storage:pool-delete",
        "POST",
        "storage.pool.delete",
        {"pool": "{doomed_pool}"},
        {"confirm_name": "{doomed_pool}"},
        setup=_doomed_pool,
    ),
    Sample("storage:namespace-create", "POST", "storage.namespace.create", POOL, {"name": "{new}"}, setup=_in_pool),
    Sample(
        "storage:namespace-delete",
        "POST",
        "storage.namespace.delete",
        {"pool": "{pool}", "name": "{rbd_namespace}"},
        {"confirm_name": "{rbd_namespace}"},
        setup=_rbd_namespace,
    ),
    Sample(
        "storage:image-create",
        "POST",
        "storage.image.create",
        POOL,
        {"name": "{new}", "size": "64", "size_unit": "MiB", "object_size": "4194304", "features": "default"},
        setup=_in_pool,
    ),
    Sample(
        "storage:image-resize", "POST", "storage.image.resize", IMAGE, {"size": "128", "size_unit": "MiB"}, setup=_image
    ),
    Sample("storage:image-rename", "POST", "storage.image.rename", IMAGE, {"new_name": "{new}"}, setup=_image),
    Sample("storage:image-copy", "POST", "storage.image.copy", IMAGE, DESTINATION, setup=_image),
    Sample(
        "storage:image-delete",
        "POST",
        "storage.image.delete",
        IMAGE,
        {"mode": "trash", "confirm_name": ""},
        setup=_image,
    ),
    Sample("storage:image-flatten", "POST", "storage.image.flatten", IMAGE, setup=_clone),
    Sample(
        "storage:pool-options",
        "POST",
        "storage.pool.set_options",
        POOL,
        {"compression_mode": "none", "pg_autoscale_mode": "on"},
        setup=_in_pool,
    ),
    Sample("storage:pool-qos", "POST", "storage.pool.set_qos", POOL, {"rbd_qos_iops_limit": ""}, setup=_in_pool),
    Sample("storage:image-qos", "POST", "storage.image.set_qos", IMAGE, {"rbd_qos_iops_limit": "100"}, setup=_image),
    Sample(
        "storage:image-features",
        "POST",
        "storage.image.update_features",
        IMAGE,
        {"exclusive-lock": "on", "deep-flatten": "on"},
        setup=_image,
    ),
    Sample(
        "storage:image-metadata", "POST", "storage.image.set_metadata", IMAGE, {"key": "k", "value": "v"}, setup=_image
    ),
    Sample(
        "storage:image-metadata-remove",
        "POST",
        "storage.image.remove_metadata",
        {**IMAGE, "key": "owner"},
        setup=_image_with_metadata,
    ),
    Sample("storage:snapshot-create", "POST", "storage.snapshot.create", IMAGE, {"snapshot": "{new}"}, setup=_image),
    Sample(
        "storage:snapshot-delete",
        "POST",
        "storage.snapshot.delete",
        SNAPSHOT,
        {"confirm_name": "{snapshot}"},
        setup=_snapshot,
    ),
    Sample("storage:snapshot-rollback", "POST", "storage.snapshot.rollback", SNAPSHOT, setup=_snapshot),
    Sample("storage:snapshot-protect", "POST", "storage.snapshot.protect", SNAPSHOT, setup=_snapshot),
    Sample("storage:snapshot-unprotect", "POST", "storage.snapshot.unprotect", SNAPSHOT, setup=_protected_snapshot),
    Sample("storage:snapshot-clone", "POST", "storage.image.clone", SNAPSHOT, DESTINATION, setup=_protected_snapshot),
    Sample(
        "storage:snapshot-rename", "POST", "storage.snapshot.rename", SNAPSHOT, {"new_name": "{new}"}, setup=_snapshot
    ),
    Sample("storage:snapshot-copy", "POST", "storage.image.copy", SNAPSHOT, DESTINATION, setup=_snapshot),
    # Its background task never runs here (the test's transaction never commits), so the other
    # samples' trash entries stay.
    Sample(
        "storage:trash-purge", "POST", "storage.image.trash_purge", POOL, {"confirm_name": "{pool}"}, setup=_in_pool
    ),
    Sample(
        "storage:trash-purge-forced",
        "POST",
        "storage.image.trash_purge",
        POOL,
        {"confirm_name": "{pool}"},
        setup=_in_pool,
    ),
    Sample("storage:trash-restore", "POST", "storage.image.trash_restore", TRASH_ENTRY, setup=_trashed_image),
    Sample(
        "storage:trash-restore-as",
        "POST",
        "storage.image.trash_restore",
        TRASH_ENTRY,
        {"new_name": "{new}"},
        setup=_trashed_image,
    ),
    Sample(
        "storage:trash-purge-entry",
        "POST",
        "storage.image.trash_purge",
        TRASH_ENTRY,
        {"confirm_name": "{image}"},
        setup=_trashed_image,
    ),
    Sample("storage:trash-auto-purge", "POST", "storage.trash.set_auto_purge", body={"enabled": ""}, setup=_in_pool),
    Sample(
        "storage:snapshot-schedule-create",
        "POST",
        "storage.snapshot_schedule.create",
        POOL,
        {"image": "{image}", "frequency": "hourly", "keep": "24"},
        setup=_image,
    ),
    Sample(
        "storage:snapshot-schedule-delete",
        "POST",
        "storage.snapshot_schedule.delete",
        SCHEDULE,
        setup=_snapshot_schedule,
    ),
]

STORAGE_API_SAMPLES = [
    Sample(
        "api:storage-pool-list",
        "POST",
        "storage.pool.create",
        body={"name": "{new_pool}", "pg_num": 8},
        setup=_new_pool,
    ),
    Sample("api:storage-pool-detail", "PATCH", "storage.pool.set_quota", POOL, {"max_bytes": "100GiB"}, setup=_in_pool),
    Sample(
        "api:storage-pool-detail",
        "DELETE",
        "storage.pool.delete",
        {"pool": "{doomed_pool}"},
        {"confirm_name": "{doomed_pool}"},
        setup=_doomed_pool,
    ),
    Sample("api:storage-namespace-list", "POST", "storage.namespace.create", POOL, {"name": "{new}"}, setup=_in_pool),
    Sample(
        "api:storage-namespace-detail",
        "DELETE",
        "storage.namespace.delete",
        {"pool": "{pool}", "name": "{rbd_namespace}"},
        setup=_rbd_namespace,
    ),
    Sample(
        "api:storage-image-list",
        "POST",
        "storage.image.create",
        POOL,
        {"name": "{new}", "size": "64MiB"},
        setup=_in_pool,
    ),
    Sample("api:storage-image-detail", "PATCH", "storage.image.resize", IMAGE, {"size": "128MiB"}, setup=_image),
    Sample("api:storage-image-detail", "DELETE", "storage.image.delete", IMAGE, setup=_image),
    Sample("api:storage-image-copy", "POST", "storage.image.copy", IMAGE, DESTINATION, setup=_image),
    Sample(
        "api:storage-pool-options",
        "PATCH",
        "storage.pool.set_options",
        POOL,
        {"compression_mode": "none"},
        setup=_in_pool,
    ),
    Sample("api:storage-pool-qos", "PATCH", "storage.pool.set_qos", POOL, {"rbd_qos_iops_limit": None}, setup=_in_pool),
    Sample("api:storage-image-qos", "PATCH", "storage.image.set_qos", IMAGE, {"rbd_qos_iops_limit": 5}, setup=_image),
    Sample(
        "api:storage-image-features",
        "PATCH",
        "storage.image.update_features",
        IMAGE,
        {"features": {"object-map": False, "fast-diff": False}},
        setup=_image,
    ),
    Sample(
        "api:storage-image-metadata-detail",
        "PUT",
        "storage.image.set_metadata",
        {**IMAGE, "key": "k"},
        {"value": "v"},
        setup=_image,
    ),
    Sample(
        "api:storage-image-metadata-detail",
        "DELETE",
        "storage.image.remove_metadata",
        {**IMAGE, "key": "owner"},
        setup=_image_with_metadata,
    ),
    Sample("api:storage-image-flatten", "POST", "storage.image.flatten", IMAGE, setup=_clone),
    Sample("api:storage-snapshot-list", "POST", "storage.snapshot.create", IMAGE, {"name": "{new}"}, setup=_image),
    Sample("api:storage-snapshot-detail", "DELETE", "storage.snapshot.delete", SNAPSHOT, setup=_snapshot),
    Sample(
        "api:storage-snapshot-detail",
        "PATCH",
        "storage.snapshot.rename",
        SNAPSHOT,
        {"new_name": "{new}"},
        setup=_snapshot,
    ),
    Sample("api:storage-snapshot-copy", "POST", "storage.image.copy", SNAPSHOT, DESTINATION, setup=_snapshot),
    Sample("api:storage-snapshot-rollback", "POST", "storage.snapshot.rollback", SNAPSHOT, setup=_snapshot),
    Sample("api:storage-snapshot-protect", "POST", "storage.snapshot.protect", SNAPSHOT, setup=_snapshot),
    Sample("api:storage-snapshot-unprotect", "POST", "storage.snapshot.unprotect", SNAPSHOT, setup=_protected_snapshot),
    Sample(
        "api:storage-snapshot-clone", "POST", "storage.image.clone", SNAPSHOT, DESTINATION, setup=_protected_snapshot
    ),
    Sample("api:storage-trash-purge", "POST", "storage.image.trash_purge", POOL, setup=_in_pool),
    Sample("api:storage-trash-entry", "DELETE", "storage.image.trash_purge", TRASH_ENTRY, setup=_trashed_image),
    Sample("api:storage-trash-restore", "POST", "storage.image.trash_restore", TRASH_ENTRY, setup=_trashed_image),
    Sample(
        "api:storage-snapshot-schedule-list",
        "POST",
        "storage.snapshot_schedule.create",
        POOL,
        {"image": "{image}", "frequency": "hourly", "keep": 24},
        setup=_image,
    ),
    Sample(
        "api:storage-snapshot-schedule-detail",
        "DELETE",
        "storage.snapshot_schedule.delete",
        SCHEDULE,
        setup=_snapshot_schedule,
    ),
]


# --- registry: secrets in the module's Kubernetes namespace, each with a name of its own ----------

LOGIN = {"server": "registry.example.com", "username": "robot", "password": "Audit-pass-3f9c"}
SECOND_LOGIN = {"server": "quay.example.org", "username": "deployer", "password": "Audit-pass-71d2"}


def _in_kube_namespace(ctx: SampleContext) -> dict:
    return {"namespace": ctx.kube_namespace}


def _secret(ctx: SampleContext, *, logins=(LOGIN,), service_accounts=("default",)) -> dict:
    name = unique("secret")
    [result] = secrets.secret_create(
        actor=ctx.admin,
        cluster=ctx.kube,
        namespaces=[ctx.kube_namespace],
        name=name,
        credentials=[Credential(**login) for login in logins],
        service_accounts=list(service_accounts),
    )
    assert result.ok, result.message
    return {"namespace": ctx.kube_namespace, "name": name}


def _checked_secret(ctx: SampleContext) -> dict:
    names = _secret(ctx)
    credential_health_check(cluster=ctx.kube, namespace=names["namespace"], secret_name=names["name"])
    return names


def _secret_with_two_logins(ctx: SampleContext) -> dict:
    return _secret(ctx, logins=(LOGIN, SECOND_LOGIN))


def _unlinked_secret(ctx: SampleContext) -> dict:
    return _secret(ctx, service_accounts=())


def _wizard_at_review(ctx: SampleContext, namespaces: list[str], service_accounts=("default",)) -> None:
    """Walk the wizard's steps as the operator would, up to Create."""
    rows = {
        "registries-TOTAL_FORMS": "1",
        "registries-INITIAL_FORMS": "0",
        **{f"registries-0-{key}": value for key, value in LOGIN.items()},
    }
    ctx.client.get(reverse("registry:wizard-start"))
    for step, data in (
        ("target", {"cluster": ctx.kube.name, "namespaces": namespaces}),
        ("credentials", rows),
        (
            "options",
            {
                "name": unique("secret"),
                "type": "kubernetes.io/dockerconfigjson",
                "service_accounts": list(service_accounts),
                "labels": "",
            },
        ),
    ):
        response = ctx.client.post(reverse(f"registry:wizard-{step}"), data)
        assert response.status_code == 302, f"wizard step {step} refused the sample's input"


def _wizard_ready_to_create(ctx: SampleContext) -> dict:
    _wizard_at_review(ctx, [ctx.kube_namespace])
    return {}


def _wizard_with_a_failed_namespace(ctx: SampleContext) -> dict:
    """Create fails to link in a namespace that lacks the chosen service account; once it has it,
    Retry succeeds."""
    bare = unique("berth-audit")
    account = unique("deployer")
    ctx.kube_core.create_namespace(kube_client.V1Namespace(metadata=kube_client.V1ObjectMeta(name=bare)))
    ctx.request.addfinalizer(lambda: ctx.kube_core.delete_namespace(bare))
    create_service_account(ctx.kube_core, ctx.kube_namespace, account)
    _wizard_at_review(ctx, [ctx.kube_namespace, bare], service_accounts=[account])
    assert ctx.client.post(reverse("registry:wizard-review")).status_code == 302
    create_service_account(ctx.kube_core, bare, account)
    return {"failed": bare}


SECRET = {"namespace": "{namespace}", "name": "{name}"}

REGISTRY_API_SAMPLES = [
    Sample(
        "api:registry-secret-list",
        "POST",
        "registry.secret.create",
        {"namespace": "{namespace}"},
        {"name": "{new}", "registries": [LOGIN]},
        setup=_in_kube_namespace,
    ),
    Sample(
        "api:registry-secret-bulk-create",
        "POST",
        "registry.secret.create",
        body={"namespaces": ["{namespace}"], "name": "{new}", "registries": [LOGIN]},
        setup=_in_kube_namespace,
    ),
    Sample(
        "api:registry-secret-detail",
        "DELETE",
        "registry.secret.delete",
        SECRET,
        {"confirm_name": "{name}"},
        setup=_secret,
    ),
    Sample(
        "api:registry-secret-rotate",
        "POST",
        "registry.secret.rotate",
        SECRET,
        {"server": LOGIN["server"], "password": "Rotated-pass-5b0e"},
        setup=_secret,
    ),
    Sample("api:registry-secret-entries", "POST", "registry.secret.entry.add", SECRET, SECOND_LOGIN, setup=_secret),
    Sample(
        "api:registry-secret-entries",
        "DELETE",
        "registry.secret.entry.remove",
        SECRET,
        {"server": SECOND_LOGIN["server"]},
        setup=_secret_with_two_logins,
    ),
    Sample(
        "api:registry-secret-link",
        "POST",
        "registry.secret.link",
        SECRET,
        {"service_accounts": ["default"]},
        setup=_unlinked_secret,
    ),
    Sample(
        "api:registry-secret-unlink",
        "POST",
        "registry.secret.unlink",
        SECRET,
        {"service_accounts": ["default"]},
        setup=_secret,
    ),
]

REGISTRY_API_SAMPLES += [
    Sample("api:registry-credential-check", "POST", "registry.credential.check", SECRET, {}, setup=_secret),
    Sample(
        "api:registry-credential-expiry",
        "POST",
        "registry.credential.expiry",
        SECRET,
        {"registry": LOGIN["server"], "expires_on": "2031-01-31"},
        setup=_checked_secret,
    ),
]


def _notification(ctx: SampleContext) -> dict:
    return {"id": notify(None, Notification.DRIFT_FOUND, "a copy differs", {}).pk}


def _webhook(ctx: SampleContext) -> dict:
    name = unique("hook")
    webhook_create(actor=ctx.admin, name=name, url="https://hooks.example.com/x", secret="Sample-signing-secret-1")
    return {"name": name}


REGISTRY_API_SAMPLES += [
    Sample(
        "api:registry-notification-dismiss",
        "POST",
        "registry.notification.dismiss",
        {"notification_id": "{id}"},
        setup=_notification,
    ),
    Sample(
        "api:registry-webhook-list",
        "POST",
        "registry.webhook.create",
        body={"name": "{new}", "url": "https://hooks.example.com/x", "secret": "Sample-signing-secret-2"},
    ),
    Sample("api:registry-webhook-detail", "DELETE", "registry.webhook.delete", {"webhook": "{name}"}, setup=_webhook),
    Sample("api:registry-node-config", "POST", "registry.node_config.build", body={"registries": [LOGIN]}),
]

REGISTRY_UI_SAMPLES = [
    Sample(
        "registry:notification-dismiss",
        "POST",
        "registry.notification.dismiss",
        {"notification_id": "{id}"},
        setup=_notification,
    ),
    Sample(
        "registry:webhook-create",
        "POST",
        "registry.webhook.create",
        body={"name": "{new}", "url": "https://hooks.example.com/x", "secret": "Sample-signing-secret-3", "tenant": ""},
    ),
    Sample("registry:webhook-delete", "POST", "registry.webhook.delete", {"name": "{name}"}, setup=_webhook),
    Sample(
        "registry:secret-rotate",
        "POST",
        "registry.secret.rotate",
        SECRET,
        {"password": "Rotated-pass-5b0e"},
        query={"server": LOGIN["server"]},
        setup=_secret,
    ),
    Sample(
        "registry:secret-add-entry",
        "POST",
        "registry.secret.entry.add",
        SECRET,
        {**SECOND_LOGIN, "email": ""},
        setup=_secret,
    ),
    Sample(
        "registry:secret-remove-entry",
        "POST",
        "registry.secret.entry.remove",
        SECRET,
        query={"server": SECOND_LOGIN["server"]},
        setup=_secret_with_two_logins,
    ),
    Sample(
        "registry:secret-link",
        "POST",
        "registry.secret.link",
        SECRET,
        {"service_accounts": ["default"]},
        setup=_unlinked_secret,
    ),
    Sample("registry:secret-unlink", "POST", "registry.secret.unlink", {**SECRET, "account": "default"}, setup=_secret),
    Sample("registry:secret-health-check", "POST", "registry.credential.check", SECRET, {}, setup=_secret),
    Sample(
        "registry:secret-delete", "POST", "registry.secret.delete", SECRET, {"confirm_name": "{name}"}, setup=_secret
    ),
    Sample("registry:wizard-review", "POST", "registry.secret.create", setup=_wizard_ready_to_create),
    Sample(
        "registry:wizard-result",
        "POST",
        "registry.secret.create",
        body={"namespaces": ["{failed}"]},
        setup=_wizard_with_a_failed_namespace,
    ),
]


def _registry_login(ctx: SampleContext) -> dict:
    """A login the session's htpasswd registry accepts (Test login changes nothing, but is recorded)."""
    return ctx.request.getfixturevalue("htpasswd_registry")._asdict()


TEST_LOGIN_ROW = {
    "row": "registries-0",
    "registries-0-server": "{url}",
    "registries-0-username": "{username}",
    "registries-0-password": "{password}",
    "registries-0-email": "",
}
REGISTRY_LOGIN_SAMPLES = [
    Sample(
        "api:registry-test-login",
        "POST",
        "registry.login.test",
        body={"server": "{url}", "username": "{username}", "password": "{password}"},
        setup=_registry_login,
    ),
    Sample("registry:wizard-test-login", "POST", "registry.login.test", body=TEST_LOGIN_ROW, setup=_registry_login),
]


# --- tenancy: tenants made in the database (the admin is where tenants are created) -------------


def _tenant(ctx: SampleContext) -> dict:
    return {"slug": Tenant.objects.create(name=unique("tenant"), slug=unique("tenant")).slug}


def _tenant_and_user(ctx: SampleContext) -> dict:
    return {**_tenant(ctx), "username": get_user_model().objects.create_user(unique("user")).username}


def _tenant_member(ctx: SampleContext) -> dict:
    names = _tenant_and_user(ctx)
    tenancy.membership_set(
        actor=ctx.admin, tenant=Tenant.objects.get(slug=names["slug"]), username=names["username"], role=tenancy.VIEWER
    )
    return names


def _tenant_namespace(ctx: SampleContext) -> dict:
    """A tenant owning an RBD namespace of the module's pool; its Ceph key is removed afterwards."""
    names = {**_rbd_namespace(ctx), **_tenant(ctx)}
    binding = StorageBinding.objects.create(
        tenant=Tenant.objects.get(slug=names["slug"]),
        cluster=ctx.ceph,
        pool=names["pool"],
        namespace=names["rbd_namespace"],
    )
    entity, ceph_admin = tenant_keys.tenant_key_entity(binding), ctx.request.getfixturevalue("ceph_admin")
    ctx.request.addfinalizer(lambda: ceph_admin.mon("auth rm", entity=entity))
    return {**names, "binding_id": binding.pk}


def _tenant_key(ctx: SampleContext) -> dict:
    names = _tenant_namespace(ctx)
    tenant_keys.tenant_key_create(actor=ctx.admin, binding=StorageBinding.objects.get(pk=names["binding_id"]))
    return names


def _orphaned_key(ctx: SampleContext) -> dict:
    """A tenant key Berth recorded whose binding is gone (made with the admin CLI, as Berth would have)."""
    names = _rbd_namespace(ctx)
    entity, ceph_admin = f"client.berth-tenant-{unique('gone')}", ctx.request.getfixturevalue("ceph_admin")
    cap = f"profile rbd pool={names['pool']} namespace={names['rbd_namespace']}"
    ceph_admin.mon("auth get-or-create", entity=entity, caps=["mon", "profile rbd", "osd", cap, "mgr", cap])
    ctx.request.addfinalizer(lambda: ceph_admin.mon("auth rm", entity=entity))
    TenantKeyEntity.objects.create(cluster=ctx.ceph, entity=entity)
    return {"entity": entity}


BINDING = {"slug": "{slug}", "binding_id": "{binding_id}"}


def _registry_quota_form(ctx: SampleContext) -> dict:
    return {**_tenant(ctx), "kube_namespace": ctx.kube_namespace}


def _tenant_place(ctx: SampleContext) -> dict:
    """A tenant and a new RBD namespace name in the module's pool for it."""
    return {**_tenant(ctx), "pool": ctx.pool, "rbd_namespace": unique("ns")}


def _own_api_token(ctx: SampleContext) -> dict:
    return {"token_id": str(api_token_create(actor=ctx.admin, name=unique("token"))[0].pk)}


ACCOUNT_SAMPLES = [
    Sample("account-tokens", "POST", "auth.api_token.create", body={"name": "{new}", "days": "30"}),
    Sample("account-token-revoke", "POST", "auth.api_token.revoke", {"token_id": "{token_id}"}, setup=_own_api_token),
    Sample("api:token-detail", "DELETE", "auth.api_token.revoke", {"token_id": "{token_id}"}, setup=_own_api_token),
]

TENANCY_SAMPLES = [
    Sample(
        "tenant-quota",
        "POST",
        "tenancy.storage_quota.set",
        {"slug": "{slug}"},
        {"max_images": "10", "max_provisioned_gib": "", "max_image_gib": "", "max_snapshots": ""},
        setup=_tenant,
    ),
    Sample(
        "tenant-member-set",
        "POST",
        "tenancy.membership.set",
        {"slug": "{slug}"},
        {"username": "{username}", "role": "operator"},
        setup=_tenant_and_user,
    ),
    Sample(
        "tenant-member-remove",
        "POST",
        "tenancy.membership.remove",
        {"slug": "{slug}", "username": "{username}"},
        setup=_tenant_member,
    ),
    Sample("tenant-create", "POST", "tenancy.tenant.create", body={"name": "{new}", "slug": "{new}"}),
    Sample("tenant-edit", "POST", "tenancy.tenant.update", {"slug": "{slug}"}, {"name": "{new}"}, setup=_tenant),
    Sample(
        "tenant-delete", "POST", "tenancy.tenant.delete", {"slug": "{slug}"}, {"confirm_name": "{slug}"}, setup=_tenant
    ),
    Sample(
        "tenant-bind",
        "POST",
        "storage.binding.create",
        {"slug": "{slug}"},
        {"pool": "{pool}", "namespace": "{rbd_namespace}"},
        setup=_tenant_place,
    ),
    Sample("tenant-unbind", "POST", "storage.binding.delete", BINDING, setup=_tenant_namespace),
    Sample(
        "tenant-registry-quota",
        "POST",
        "tenancy.registry_quota.set",
        {"slug": "{slug}"},
        {"namespaces": ["{kube_namespace}"], "max_pull_secrets_per_namespace": "2"},
        setup=_registry_quota_form,
    ),
    Sample("api:tenant-list", "POST", "tenancy.tenant.create", body={"name": "{new}", "slug": "{new}"}),
    Sample("api:tenant-detail", "PATCH", "tenancy.tenant.update", {"slug": "{slug}"}, {"name": "{new}"}, setup=_tenant),
    Sample(
        "api:tenant-detail",
        "DELETE",
        "tenancy.tenant.delete",
        {"slug": "{slug}"},
        {"confirm_name": "{slug}"},
        setup=_tenant,
    ),
    Sample(
        "api:tenant-binding-list",
        "POST",
        "storage.binding.create",
        {"slug": "{slug}"},
        {"pool": "{pool}", "namespace": "{rbd_namespace}"},
        setup=_tenant_place,
    ),
    Sample("api:tenant-binding-detail", "DELETE", "storage.binding.delete", BINDING, setup=_tenant_namespace),
    Sample("tenant-key-create", "POST", "storage.tenant_key.create", BINDING, setup=_tenant_namespace),
    Sample("tenant-key-revoke", "POST", "storage.tenant_key.revoke", BINDING, setup=_tenant_key),
    Sample(
        "storage:tenant-key-orphan-revoke",
        "POST",
        "storage.tenant_key.orphan_revoke",
        {"entity": "{entity}"},
        setup=_orphaned_key,
    ),
]


# --- registry: managed pull secrets of a tenant owning the module's Kubernetes namespace ----------


def _managed_source(ctx: SampleContext) -> dict:
    """A tenant whose registry quota holds the module's namespace, and a source secret there."""
    source = _secret(ctx)["name"]
    tenant, _ = Tenant.objects.get_or_create(slug="audit-managed", defaults={"name": "Audit managed"})
    RegistryQuota.objects.update_or_create(
        tenant=tenant, defaults={"kube_cluster": ctx.kube, "namespaces": [ctx.kube_namespace]}
    )
    return {"tenant": tenant.slug, "namespace": ctx.kube_namespace, "source": source}


def _managed(ctx: SampleContext, *, unmanaged_copy: bool = False) -> dict:
    names = _managed_source(ctx)
    name = unique("managed")
    if unmanaged_copy:  # a same-named secret Berth does not manage, for adopt
        ctx.kube_core.create_namespaced_secret(
            ctx.kube_namespace,
            kube_client.V1Secret(
                metadata=kube_client.V1ObjectMeta(name=name),
                type="kubernetes.io/dockerconfigjson",
                string_data={".dockerconfigjson": '{"auths": {}}'},
            ),
        )
    managed.managed_secret_create(
        actor=ctx.admin,
        tenant=Tenant.objects.get(slug=names["tenant"]),
        name=name,
        source_namespace=names["namespace"],
        source_name=names["source"],
    )
    return {**names, "name": name}


def _managed_with_unmanaged_copy(ctx: SampleContext) -> dict:
    return _managed(ctx, unmanaged_copy=True)


MANAGED = {"tenant": "{tenant}", "name": "{name}"}
MANAGED_SETTINGS = {"source_namespace": "{namespace}", "source_name": "{source}"}
MANAGED_FORM = {
    **MANAGED_SETTINGS,
    "target_labels": "",
    "accounts": "default",
    "account_names": "",
    "drift_policy": "report",
}

MANAGED_SAMPLES = [
    Sample(
        "api:registry-managed-secret-list",
        "POST",
        "registry.managed_secret.create",
        {"tenant": "{tenant}"},
        {"name": "{new}", **MANAGED_SETTINGS},
        setup=_managed_source,
    ),
    Sample(
        "api:registry-managed-secret-detail",
        "PUT",
        "registry.managed_secret.update",
        MANAGED,
        {**MANAGED_SETTINGS, "drift_policy": "repair"},
        setup=_managed,
    ),
    Sample(
        "api:registry-managed-secret-detail",
        "DELETE",
        "registry.managed_secret.delete",
        MANAGED,
        {"confirm_name": "{name}"},
        setup=_managed,
    ),
    Sample("api:registry-managed-secret-repair", "POST", "registry.managed_secret.repair_now", MANAGED, setup=_managed),
    Sample(
        "api:registry-managed-secret-adopt",
        "POST",
        "registry.managed_secret.adopt",
        MANAGED,
        {"namespace": "{namespace}"},
        setup=_managed_with_unmanaged_copy,
    ),
    Sample(
        "api:registry-managed-secret-rotate",
        "POST",
        "registry.managed_secret.rotate",
        MANAGED,
        {"registries": [LOGIN]},
        setup=_managed,
    ),
    Sample(
        "registry:managed-create",
        "POST",
        "registry.managed_secret.create",
        body={"tenant": "{tenant}", "name": "{new}", **MANAGED_FORM},
        setup=_managed_source,
    ),
    Sample("registry:managed-edit", "POST", "registry.managed_secret.update", MANAGED, MANAGED_FORM, setup=_managed),
    Sample(
        "registry:managed-delete",
        "POST",
        "registry.managed_secret.delete",
        MANAGED,
        {"confirm_name": "{name}"},
        setup=_managed,
    ),
    Sample("registry:managed-repair", "POST", "registry.managed_secret.repair_now", MANAGED, setup=_managed),
    Sample(
        "registry:managed-adopt",
        "POST",
        "registry.managed_secret.adopt",
        {**MANAGED, "namespace": "{namespace}"},
        setup=_managed_with_unmanaged_copy,
    ),
    Sample(
        "registry:managed-rotate",
        "POST",
        "registry.managed_secret.rotate",
        MANAGED,
        {
            "registries-TOTAL_FORMS": "1",
            "registries-INITIAL_FORMS": "0",
            **{f"registries-0-{key}": value for key, value in LOGIN.items()},
        },
        setup=_managed,
    ),
]


def _tenant_with_kube(ctx: SampleContext) -> dict:
    """A tenant's RBD namespace and its Kubernetes cluster, with ceph-csi's namespace there; the
    StorageClass written is removed afterwards."""
    names = _tenant_namespace(ctx)
    RegistryQuota.objects.create(
        tenant=Tenant.objects.get(slug=names["slug"]), kube_cluster=ctx.kube, namespaces=[ctx.kube_namespace]
    )
    ctx.request.getfixturevalue("settings").BERTH_CSI_NAMESPACE = ctx.kube_namespace
    storage = kube_client.StorageV1Api(ctx.request.getfixturevalue("kube_admin_api"))
    name = f"berth-{names['slug']}-{names['rbd_namespace']}"
    ctx.request.addfinalizer(lambda: storage.delete_collection_storage_class(field_selector=f"metadata.name={name}"))
    return names


def _tenant_image_with_kube(ctx: SampleContext) -> dict:
    """An image in a tenant's RBD namespace; the PersistentVolume made of it is removed afterwards."""
    names = _tenant_with_kube(ctx)
    image = unique("image")
    images.image_create(**ctx.storage(namespace=names["rbd_namespace"], name=image, size=IMAGE_SIZE))
    volume = f"berth-{names['slug']}-{names['rbd_namespace']}-{image}"

    def remove_volume() -> None:
        # No pv-protection controller runs on the test cluster to lift the API server's finalizer.
        ctx.kube_core.patch_persistent_volume(volume, {"metadata": {"finalizers": None}})
        ctx.kube_core.delete_persistent_volume(volume)

    ctx.request.addfinalizer(remove_volume)
    return {**names, "image": image, "kube_namespace": ctx.kube_namespace}


SETUP = {"fs_type": "ext4", "reclaim_policy": "Delete"}
IMAGE_VOLUME = {
    "kwargs": {"pool": "{pool}", "name": "{image}"},
    "query": {"namespace": "{rbd_namespace}"},
    "body": {"kube_namespace": "{kube_namespace}", "claim": "{new}", "volume_mode": "Block", "fs_type": "ext4"},
    "setup": _tenant_image_with_kube,
}
KUBEVOLUMES_SAMPLES = [
    Sample("image-kubernetes", "POST", "kubernetes.image.volume_create", **IMAGE_VOLUME),
    Sample("api:kubernetes-image-volume", "POST", "kubernetes.image.volume_create", **IMAGE_VOLUME),
    Sample("tenant-binding-kubernetes", "POST", "kubernetes.binding.setup", BINDING, SETUP, setup=_tenant_with_kube),
    Sample("api:kubernetes-binding", "POST", "kubernetes.binding.setup", BINDING, SETUP, setup=_tenant_with_kube),
]


SAMPLES = {
    (sample.route, sample.method): sample
    for sample in [
        *(
            Sample(route, method, action, build=build)
            for (route, method), (action, build) in {**_admin_samples(), **_ADMIN_AND_ACCOUNT_SAMPLES}.items()
        ),
        *STORAGE_UI_SAMPLES,
        *STORAGE_API_SAMPLES,
        *REGISTRY_API_SAMPLES,
        *REGISTRY_UI_SAMPLES,
        *REGISTRY_LOGIN_SAMPLES,
        *MANAGED_SAMPLES,
        *TENANCY_SAMPLES,
        *ACCOUNT_SAMPLES,
        *KUBEVOLUMES_SAMPLES,
    ]
}

# fnmatch patterns over "METHOD route" of requests a route accepts but that change nothing.
NOT_CHANGING = {
    "[!P]* admin:*": "Django's admin changes only on POST; other methods render the page as for GET",
    "P[!O]* admin:*": "as above (PUT, PATCH)",
    "[!P]* password_change": "Django's form views read request.POST, which only POST fills",
    "P[!O]* password_change": "as above",
    "* login": "signing in changes no data; attempts are recorded by django-axes (AccessLog/AccessAttempt)",
    "* logout": "signing out ends a session and changes no data",
    "* admin:login": "as login",
    "* admin:logout": "as logout",
    "* rest_framework:login": "as login (DRF's browsable-API sign-in)",
    "* rest_framework:logout": "as logout",
    "* admin:index": "admin pages that only display: Django does not restrict their methods",
    "* admin:app_list": "display only",
    "* admin:django_tasks_database_dbtaskresult_*": "django-tasks' queue rows: its admin refuses add, change and "
    "delete and has no actions (Berth's tasks are changed only by Berth's workers)",
    "* admin:password_change_done": "display only",
    "* admin:jsi18n": "display only",
    "* admin:autocomplete": "display only (search results)",
    "* admin:view_on_site": "a redirect",
    "* admin:*_history": "display only",
    "* admin:audit_auditevent_*": "the audit log is read-only: add/change/delete answer 403 before anything",
    "* admin:tenancy_apitoken_add": "API tokens are made by their owner on the API tokens page: 403 here",
    "* admin:tenancy_apitoken_change": "API tokens are read-only in the admin (they can only be revoked): 403",
    "* admin:tenancy_externalidentity_add": "links are made by a first single sign-on only: 403 here",
    "* admin:tenancy_externalidentity_change": "links are read-only in the admin (they can only be deleted): 403",
    "* oidc-login": "sends the browser to the OpenID provider; the sign-in's changes are recorded at the callback",
    "* oidc-callback": "GET only (others answer 405); users and roles it makes are recorded by the directory "
    "services (tenancy.directory.*)",
    "* admin:axes_*_add": "axes records are written by axes only; the admin refuses adding (403)",
    "* <unnamed> admin/*": "the admin's redirects (object id → change page) and its catch-all 404",
    "* api-unversioned": "the API's paths before /api/v1/ answer 410 with a pointer to their successor",
    "POST registry:wizard-target": "a wizard step keeps what was entered in the operator's session (passwords in "
    "process memory only); nothing changes before Create on the review step",
    "POST registry:wizard-credentials": "as registry:wizard-target",
    "POST registry:wizard-options": "as registry:wizard-target",
    "POST registry:wizard-node-config": "changes nothing: it answers the wizard's logins as a file, building it "
    "through node_config_build, whose audit event is sampled with api:registry-node-config",
}
