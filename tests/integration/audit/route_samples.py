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
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable
from urllib.parse import urlencode

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from kubernetes import client as kube_client
from rest_framework.authtoken.models import Token, TokenProxy

from registry.dockerconfig import Credential
from registry.models import KubeCluster
from registry.services import secrets
from storage.models import CephCluster
from storage.services import images, namespaces, pools, snapshots
from tests.fixtures.berth import TEST_PASSWORD
from tests.integration.registry.conftest import create_service_account


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
        return self.request.getfixturevalue("storage_pool")

    @cached_property
    def kube(self) -> KubeCluster:
        return self.request.getfixturevalue("kube_cluster")

    @cached_property
    def kube_namespace(self) -> str:
        return self.request.getfixturevalue("shared_kube_namespace")

    @cached_property
    def kube_core(self) -> kube_client.CoreV1Api:
        return kube_client.CoreV1Api(self.request.getfixturevalue("kube_admin_api"))

    def storage(self, **where: Any) -> dict[str, Any]:
        """The arguments every storage service takes, for objects in the shared pool."""
        return {"actor": self.admin, "cluster": self.ceph, "pool": self.pool, "namespace": "", **where}

    def delete_pool_afterwards(self, name: str) -> None:
        ceph_admin = self.request.getfixturevalue("ceph_admin")
        self.request.addfinalizer(lambda: ceph_admin.delete_pool(name) if name in ceph_admin.pools() else None)


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
    return CephCluster.objects.create(name=name, client_name="client.berth", conf_path="/etc/ceph/ceph.conf",
                                      keyring_path="/etc/ceph/ceph.client.berth.keyring")


def _cluster_form(cluster_name="west") -> dict:
    return {"name": cluster_name, "client_name": "client.berth", "conf_path": "/etc/ceph/ceph.conf",
            "keyring_path": "/etc/ceph/k", "mon_host": "", "key_path": ""}


def _password_change(_ctx):
    return reverse("password_change"), {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD,
                                        "new_password2": NEW_PASSWORD}


def _admin_password_change(_ctx):
    return reverse("admin:password_change"), {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD,
                                              "new_password2": NEW_PASSWORD}


def _other_user() -> "get_user_model()":
    return get_user_model().objects.create_user("someone", password=TEST_PASSWORD)


def _changelist_delete(model_admin_url: str, make):
    def build(_ctx):
        obj = make()
        # The primary key column's value (DRF's TokenProxy reports the user id as `.pk`).
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
    ("admin:auth_user_password_change", "POST"): ("auth.user.password.change", lambda _ctx: (
        reverse("admin:auth_user_password_change", args=[_other_user().pk]),
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})),
    ("admin:auth_user_add", "POST"): ("admin.auth.user.create", lambda _ctx: (
        reverse("admin:auth_user_add"),
        {"username": "newcomer", "usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})),
    ("admin:auth_user_change", "POST"): ("admin.auth.user.change", lambda _ctx: (
        reverse("admin:auth_user_change", args=[_other_user().pk]),
        {"username": "someone-renamed", "is_active": "on", "date_joined_0": "2026-01-01",
         "date_joined_1": "00:00:00"})),
    ("admin:auth_user_delete", "POST"): ("admin.auth.user.delete", _delete("admin:auth_user_delete", _other_user)),
    ("admin:auth_user_changelist", "POST"): ("admin.auth.user.delete",
                                             _changelist_delete("admin:auth_user_changelist", _other_user)),
    ("admin:auth_group_add", "POST"): ("admin.auth.group.create", lambda _ctx: (
        reverse("admin:auth_group_add"), {"name": "operators"})),
    ("admin:auth_group_change", "POST"): ("admin.auth.group.change", lambda _ctx: (
        reverse("admin:auth_group_change", args=[Group.objects.create(name="ops").pk]), {"name": "ops2"})),
    ("admin:auth_group_delete", "POST"): ("admin.auth.group.delete",
                                          _delete("admin:auth_group_delete", lambda: Group.objects.create(name="g"))),
    ("admin:auth_group_changelist", "POST"): ("admin.auth.group.delete", _changelist_delete(
        "admin:auth_group_changelist", lambda: Group.objects.create(name="g"))),
    ("admin:authtoken_tokenproxy_add", "POST"): ("admin.authtoken.tokenproxy.create", lambda ctx: (
        reverse("admin:authtoken_tokenproxy_add"), {"user": ctx.admin.pk})),
    ("admin:storage_cephcluster_add", "POST"): ("admin.storage.cephcluster.create", lambda _ctx: (
        reverse("admin:storage_cephcluster_add"), _cluster_form())),
    ("admin:storage_cephcluster_change", "POST"): ("admin.storage.cephcluster.change", lambda _ctx: (
        reverse("admin:storage_cephcluster_change", args=[_ceph_cluster().pk]), _cluster_form("east"))),
    ("admin:storage_cephcluster_delete", "POST"): ("admin.storage.cephcluster.delete",
                                                   _delete("admin:storage_cephcluster_delete", _ceph_cluster)),
    ("admin:storage_cephcluster_changelist", "POST"): ("admin.storage.cephcluster.delete", _changelist_delete(
        "admin:storage_cephcluster_changelist", _ceph_cluster)),
    ("admin:registry_kubecluster_add", "POST"): ("admin.registry.kubecluster.create", lambda _ctx: (
        reverse("admin:registry_kubecluster_add"), {"name": "k1", "kubeconfig_path": "/etc/kube/config",
                                                     "context": ""})),
    ("admin:registry_kubecluster_delete", "POST"): ("admin.registry.kubecluster.delete", _delete(
        "admin:registry_kubecluster_delete", lambda: KubeCluster.objects.create(name="k1", kubeconfig_path="/k"))),
}

# Objects for the admin's generic change/delete samples, one maker per model registered there.
_ADMIN_OBJECT_MAKERS = {
    get_user_model(): _other_user,
    Group: lambda: Group.objects.create(name="g"),
    TokenProxy: lambda: TokenProxy.objects.get(pk=Token.objects.create(user=_other_user()).pk),
    CephCluster: _ceph_cluster,
    KubeCluster: lambda: KubeCluster.objects.create(name="k1", kubeconfig_path="/k"),
    AccessAttempt: lambda: AccessAttempt.objects.create(user_agent="ua", ip_address="127.0.0.1", username="u",
                                                        http_accept="*/*", path_info="/login/", get_data="",
                                                        post_data="", failures_since_start=3),
    AccessLog: lambda: AccessLog.objects.create(user_agent="ua", ip_address="127.0.0.1", username="u",
                                                http_accept="*/*", path_info="/login/"),
    AccessFailureLog: lambda: AccessFailureLog.objects.create(user_agent="ua", ip_address="127.0.0.1", username="u",
                                                              http_accept="*/*", path_info="/login/"),
}


def _unchanged_form(model_admin, make):
    """POST the change form back as it was shown: the admin still saves (and records) it."""
    def build(ctx):
        obj = make()
        request = type("Request", (), {"user": ctx.admin, "method": "GET", "GET": {}, "POST": {}})()
        form = model_admin.get_form(request, obj)(instance=obj)
        data = {}
        for name, field in form.fields.items():
            value = form[name].value()
            if value in (None, False):
                continue
            data[name] = [item.pk if hasattr(item, "pk") else item for item in value] \
                if isinstance(value, (list, tuple)) else (True if value is True else value)
        return reverse(f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_change",
                       args=[obj.pk]), data

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
            samples[(f"{prefix}_changelist", "POST")] = (f"{action}.delete",
                                                         _changelist_delete(f"{prefix}_changelist", make))
        samples[(f"{prefix}_change", "POST")] = (f"{action}.change", _unchanged_form(model_admin, make))
    return samples



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
    "* admin:password_change_done": "display only",
    "* admin:jsi18n": "display only",
    "* admin:autocomplete": "display only (search results)",
    "* admin:view_on_site": "a redirect",
    "* admin:*_history": "display only",
    "* admin:dashboard_auditevent_*": "the audit log is read-only: add/change/delete answer 403 before anything",
    "* admin:authtoken_tokenproxy_changelist": "DRF's token admin has no bulk actions: a POST re-renders the list",
    "* admin:axes_*_add": "axes records are written by axes only; the admin refuses adding (403)",
    "* <unnamed> admin/*": "the admin's redirects (object id → change page) and its catch-all 404",
}
