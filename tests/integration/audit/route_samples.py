"""What the every-route test sends to each route that accepts POST, PUT, PATCH or DELETE.

A route either has a SAMPLE here — a minimal *valid* request, which must write an audit event
(invalid input is refused by a form before any service runs and changes nothing, so it proves
nothing) — or an entry in NOT_CHANGING with the reason it changes nothing. A new unsafe route
with neither fails the inventory test, naming it.

A sample is `(method, expected action prefix, build)`; `build(admin_user)` creates whatever the
request needs and returns `(path, data)`.
"""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.authtoken.models import Token, TokenProxy

from registry.models import KubeCluster
from storage.models import CephCluster
from tests.fixtures.berth import TEST_PASSWORD

NEW_PASSWORD = "another-long-passphrase-77"


def _ceph_cluster(name="east") -> CephCluster:
    return CephCluster.objects.create(name=name, client_name="client.berth", conf_path="/etc/ceph/ceph.conf",
                                      keyring_path="/etc/ceph/ceph.client.berth.keyring")


def _cluster_form(cluster_name="west") -> dict:
    return {"name": cluster_name, "client_name": "client.berth", "conf_path": "/etc/ceph/ceph.conf",
            "keyring_path": "/etc/ceph/k", "mon_host": "", "key_path": ""}


def _password_change(_admin):
    return reverse("password_change"), {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD,
                                        "new_password2": NEW_PASSWORD}


def _admin_password_change(_admin):
    return reverse("admin:password_change"), {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD,
                                              "new_password2": NEW_PASSWORD}


def _other_user() -> "get_user_model()":
    return get_user_model().objects.create_user("someone", password=TEST_PASSWORD)


def _changelist_delete(model_admin_url: str, make):
    def build(_admin):
        obj = make()
        # The primary key column's value (DRF's TokenProxy reports the user id as `.pk`).
        selected = obj._meta.pk.value_from_object(obj)
        return reverse(model_admin_url), {"action": "delete_selected", "_selected_action": [selected], "post": "yes"}

    return build


def _delete(url_name: str, make):
    def build(_admin):
        return reverse(url_name, args=[make().pk]), {"post": "yes"}

    return build


SAMPLES = {
    ("password_change", "POST"): ("auth.user.password.change", _password_change),
    ("admin:password_change", "POST"): ("auth.user.password.change", _admin_password_change),
    ("admin:auth_user_password_change", "POST"): ("auth.user.password.change", lambda _a: (
        reverse("admin:auth_user_password_change", args=[_other_user().pk]),
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})),
    ("admin:auth_user_add", "POST"): ("admin.auth.user.create", lambda _a: (
        reverse("admin:auth_user_add"),
        {"username": "newcomer", "usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})),
    ("admin:auth_user_change", "POST"): ("admin.auth.user.change", lambda _a: (
        reverse("admin:auth_user_change", args=[_other_user().pk]),
        {"username": "someone-renamed", "is_active": "on", "date_joined_0": "2026-01-01",
         "date_joined_1": "00:00:00"})),
    ("admin:auth_user_delete", "POST"): ("admin.auth.user.delete", _delete("admin:auth_user_delete", _other_user)),
    ("admin:auth_user_changelist", "POST"): ("admin.auth.user.delete",
                                             _changelist_delete("admin:auth_user_changelist", _other_user)),
    ("admin:auth_group_add", "POST"): ("admin.auth.group.create", lambda _a: (
        reverse("admin:auth_group_add"), {"name": "operators"})),
    ("admin:auth_group_change", "POST"): ("admin.auth.group.change", lambda _a: (
        reverse("admin:auth_group_change", args=[Group.objects.create(name="ops").pk]), {"name": "ops2"})),
    ("admin:auth_group_delete", "POST"): ("admin.auth.group.delete",
                                          _delete("admin:auth_group_delete", lambda: Group.objects.create(name="g"))),
    ("admin:auth_group_changelist", "POST"): ("admin.auth.group.delete", _changelist_delete(
        "admin:auth_group_changelist", lambda: Group.objects.create(name="g"))),
    ("admin:authtoken_tokenproxy_add", "POST"): ("admin.authtoken.tokenproxy.create", lambda admin: (
        reverse("admin:authtoken_tokenproxy_add"), {"user": admin.pk})),
    ("admin:storage_cephcluster_add", "POST"): ("admin.storage.cephcluster.create", lambda _a: (
        reverse("admin:storage_cephcluster_add"), _cluster_form())),
    ("admin:storage_cephcluster_change", "POST"): ("admin.storage.cephcluster.change", lambda _a: (
        reverse("admin:storage_cephcluster_change", args=[_ceph_cluster().pk]), _cluster_form("east"))),
    ("admin:storage_cephcluster_delete", "POST"): ("admin.storage.cephcluster.delete",
                                                   _delete("admin:storage_cephcluster_delete", _ceph_cluster)),
    ("admin:storage_cephcluster_changelist", "POST"): ("admin.storage.cephcluster.delete", _changelist_delete(
        "admin:storage_cephcluster_changelist", _ceph_cluster)),
    ("admin:registry_kubecluster_add", "POST"): ("admin.registry.kubecluster.create", lambda _a: (
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
    def build(admin_user):
        obj = make()
        request = type("Request", (), {"user": admin_user, "method": "GET", "GET": {}, "POST": {}})()
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


SAMPLES = {**_admin_samples(), **SAMPLES}

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
