"""Image-pull secrets through Berth's API, checked against what the real API server holds."""

import pytest
from django.urls import reverse
from kubernetes import client

from dashboard.audit.models import AuditEvent
from tests.helpers import (
    create_service_account,
    decoded_auth,
    linked_secrets,
    stored_config,
    unique_name,
    wait_for_service_account,
    wait_until_namespace_gone,
)

pytestmark = pytest.mark.integration

HARBOR = {"server": "harbor.example.com/team", "username": "robot$ci", "password": "harbor-pass-1"}
QUAY = {"server": "https://quay.example.org:8443", "username": "deployer", "password": "quay-pass-2"}


def secret_url(namespace, name, action=""):
    return reverse(f"api:registry-secret-{action or 'detail'}", args=[namespace, name])


def create(api_client, namespaces, name="regkey", **extra):
    body = {"namespaces": namespaces, "name": name, "registries": [HARBOR, QUAY], **extra}
    return api_client.post(reverse("api:registry-secret-bulk-create"), body, content_type="application/json")


def test_one_secret_with_two_registries_in_two_namespaces(
    admin_client, kube_cluster, core, namespace, second_namespace
):
    response = create(admin_client, [namespace, second_namespace], labels={"team": "payments"})

    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert [(r["namespace"], r["outcome"], r["linked"]) for r in results] == [
        (namespace, "created", ["default"]),
        (second_namespace, "created", ["default"]),
    ]
    for ns in (namespace, second_namespace):
        secret_type, document = stored_config(core, ns, "regkey")
        assert secret_type == "kubernetes.io/dockerconfigjson"
        auths = document["auths"]
        assert decoded_auth(auths["harbor.example.com/team"]) == "robot$ci:harbor-pass-1"
        assert decoded_auth(auths["quay.example.org:8443"]) == "deployer:quay-pass-2"
        assert linked_secrets(core, ns) == ["regkey"]
        labels = core.read_namespaced_secret("regkey", ns).metadata.labels
        assert labels == {"team": "payments", "app.kubernetes.io/managed-by": "berth"}
    shown = results[0]["secret"]
    assert [(e["server"], e["username"]) for e in shown["entries"]] == [
        ("harbor.example.com/team", "robot$ci"),
        ("quay.example.org:8443", "deployer"),
    ]
    assert shown["service_accounts"] == ["default"] and shown["managed_by_berth"] is True
    events = AuditEvent.objects.filter(action="registry.secret.create", outcome="success")
    assert sorted(event.target["namespace"] for event in events) == sorted([namespace, second_namespace])
    assert events[0].parameters["servers"] == ["harbor.example.com/team", "quay.example.org:8443"]


def test_legacy_dockercfg_type(admin_client, kube_cluster, core, namespace):
    response = admin_client.post(
        reverse("api:registry-secret-list", args=[namespace]),
        {"name": "legacy", "type": "kubernetes.io/dockercfg", "registries": [HARBOR]},
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    secret_type, document = stored_config(core, namespace, "legacy")
    assert secret_type == "kubernetes.io/dockercfg"
    assert set(document) == {"harbor.example.com/team"}
    assert decoded_auth(document["harbor.example.com/team"]) == "robot$ci:harbor-pass-1"
    listed = admin_client.get(reverse("api:registry-secret-list", args=[namespace])).json()
    assert [(s["name"], s["type"]) for s in listed] == [("legacy", "kubernetes.io/dockercfg")]


def test_config_json_upload_adds_its_logins(admin_client, kube_cluster, core, namespace):
    config_json = '{"auths": {"https://index.docker.io/v1/": {"auth": "aHViLXVzZXI6aHViLXBhc3M="}}}'
    response = admin_client.post(
        reverse("api:registry-secret-list", args=[namespace]),
        {"name": "from-file", "config_json": config_json, "registries": [QUAY]},
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    _, document = stored_config(core, namespace, "from-file")
    assert decoded_auth(document["auths"]["https://index.docker.io/v1/"]) == "hub-user:hub-pass"
    assert decoded_auth(document["auths"]["quay.example.org:8443"]) == "deployer:quay-pass-2"


def test_rerunning_is_idempotent_and_keeps_other_pull_secrets(admin_client, kube_cluster, core, namespace):
    account = core.read_namespaced_service_account("default", namespace)
    account.image_pull_secrets = [client.V1LocalObjectReference(name="someone-elses")]
    core.replace_namespaced_service_account("default", namespace, account)

    first = create(admin_client, [namespace]).json()["results"][0]
    again = create(admin_client, [namespace]).json()["results"][0]

    assert (first["outcome"], again["outcome"]) == ("created", "updated")
    assert linked_secrets(core, namespace) == ["someone-elses", "regkey"]


def test_each_namespace_reports_its_own_failure_and_retry_links(
    admin_client, kube_cluster, core, namespace, kube_admin_api
):
    core.create_namespaced_secret(
        namespace, client.V1Secret(metadata=client.V1ObjectMeta(name="regkey"), type="Opaque", string_data={"x": "y"})
    )
    other = f"{namespace}-b"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=other)))
    try:
        results = create(admin_client, [namespace, other], service_accounts=["builder"]).json()["results"]

        assert results[0]["outcome"] == "failed"
        assert results[0]["error"]["code"] == "secret_type_mismatch"
        assert "with type Opaque" in results[0]["error"]["detail"]
        # `other` has no builder service account yet: the secret is written but says it is not linked.
        assert (results[1]["outcome"], results[1]["not_linked"]) == ("failed", ["builder"])
        assert "NOT linked" in results[1]["error"]["detail"] and results[1]["secret"]["name"] == "regkey"
        assert AuditEvent.objects.filter(action="registry.secret.create", outcome="failed").count() == 2

        create_service_account(core, other, "builder")
        retried = create(admin_client, [other], service_accounts=["builder"]).json()["results"]
        assert (retried[0]["outcome"], retried[0]["linked"]) == ("updated", ["builder"])
        assert linked_secrets(core, other, "builder") == ["regkey"]
    finally:
        core.delete_namespace(other)


def test_first_pull_secret_in_a_new_namespace_is_linked_and_goes_with_the_namespace(admin_client, kube_cluster, core):
    """Nothing but the controller manager makes the `default` account, as on a real cluster, and
    deleting the namespace removes it with everything in it."""
    name = unique_name("berth-first")
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    try:
        wait_for_service_account(core, name)

        response = admin_client.post(
            reverse("api:registry-secret-list", args=[name]),
            {"name": "regkey", "registries": [HARBOR]},
            content_type="application/json",
        )

        assert response.status_code == 201, response.json()
        assert (response.json()["outcome"], response.json()["linked"]) == ("created", ["default"])
        assert linked_secrets(core, name) == ["regkey"]
    finally:
        core.delete_namespace(name)

    wait_until_namespace_gone(core, name)
    assert name not in admin_client.get(reverse("api:registry-namespace-list")).json()["namespaces"]


def test_rotate_changes_one_registry_and_keeps_the_other(admin_client, kube_cluster, core, namespace):
    create(admin_client, [namespace])

    response = admin_client.post(
        secret_url(namespace, "regkey", "rotate"),
        {"server": "harbor.example.com/team", "password": "harbor-pass-NEW"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.json()
    auths = stored_config(core, namespace, "regkey")[1]["auths"]
    assert decoded_auth(auths["harbor.example.com/team"]) == "robot$ci:harbor-pass-NEW"
    assert decoded_auth(auths["quay.example.org:8443"]) == "deployer:quay-pass-2"
    event = AuditEvent.objects.get(action="registry.secret.rotate")
    assert event.parameters == {"server": "harbor.example.com/team"}


def test_add_and_remove_entries(admin_client, kube_cluster, core, namespace):
    create(admin_client, [namespace])
    url = secret_url(namespace, "regkey", "entries")

    added = admin_client.post(
        url, {"server": "ghcr.io", "username": "bot", "password": "gh-pass"}, content_type="application/json"
    )
    duplicate = admin_client.post(
        url, {"server": "https://ghcr.io/", "username": "x", "password": "y"}, content_type="application/json"
    )
    removed = admin_client.delete(url, {"server": "harbor.example.com/team"}, content_type="application/json")

    assert added.status_code == 200 and duplicate.status_code == 400
    assert "already holds a login for ghcr.io" in duplicate.json()["detail"]
    assert removed.status_code == 200
    auths = stored_config(core, namespace, "regkey")[1]["auths"]
    assert sorted(auths) == ["ghcr.io", "quay.example.org:8443"]
    assert decoded_auth(auths["ghcr.io"]) == "bot:gh-pass"
    admin_client.delete(url, {"server": "ghcr.io"}, content_type="application/json")
    last = admin_client.delete(url, {"server": "quay.example.org:8443"}, content_type="application/json")
    assert last.status_code == 400 and last.json()["code"] == "last_entry"


def test_link_and_unlink(admin_client, kube_cluster, core, namespace):
    create_service_account(core, namespace, "builder", pull_secrets=("other",))
    create(admin_client, [namespace], service_accounts=[])

    linked = admin_client.post(
        secret_url(namespace, "regkey", "link"),
        {"service_accounts": ["builder", "default"]},
        content_type="application/json",
    )
    assert linked.json()["service_accounts"] == ["builder", "default"]
    assert linked_secrets(core, namespace, "builder") == ["other", "regkey"]

    unlinked = admin_client.post(
        secret_url(namespace, "regkey", "unlink"), {"service_accounts": ["builder"]}, content_type="application/json"
    )
    assert unlinked.json()["service_accounts"] == ["default"]
    assert linked_secrets(core, namespace, "builder") == ["other"]

    missing = admin_client.post(
        secret_url(namespace, "regkey", "link"), {"service_accounts": ["ghost"]}, content_type="application/json"
    )
    assert missing.status_code == 409 and missing.json()["not_linked"] == ["ghost"]


def test_delete_unlinks_first_and_needs_the_name(admin_client, kube_cluster, core, namespace):
    create_service_account(core, namespace, "builder", pull_secrets=("other",))
    create(admin_client, [namespace], service_accounts=["default", "builder"])
    url = secret_url(namespace, "regkey")

    refused = admin_client.delete(url, {"confirm_name": "nope"}, content_type="application/json")
    assert refused.status_code == 400 and linked_secrets(core, namespace) == ["regkey"]

    response = admin_client.delete(url, {"confirm_name": "regkey"}, content_type="application/json")

    assert response.status_code == 200, response.json()
    assert response.json()["unlinked"] == ["builder", "default"]
    assert linked_secrets(core, namespace) == [] and linked_secrets(core, namespace, "builder") == ["other"]
    assert admin_client.get(url).status_code == 404


def test_list_shows_only_pull_secrets_with_links_and_pods(admin_client, kube_cluster, core, namespace):
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(metadata=client.V1ObjectMeta(name="opaque"), type="Opaque", string_data={"password": "x"}),
    )
    create(admin_client, [namespace])
    core.create_namespaced_pod(
        namespace,
        client.V1Pod(
            metadata=client.V1ObjectMeta(name="web"),
            spec=client.V1PodSpec(
                containers=[client.V1Container(name="web", image="harbor.example.com/team/web")],
                image_pull_secrets=[client.V1LocalObjectReference(name="regkey")],
            ),
        ),
    )

    listed = admin_client.get(reverse("api:registry-secret-list", args=[namespace])).json()

    assert [(s["name"], s["service_accounts"], s["pods"]) for s in listed] == [("regkey", ["default"], ["web"])]
    opaque = admin_client.get(secret_url(namespace, "opaque"))
    assert opaque.status_code == 400 and opaque.json()["code"] == "not_a_pull_secret"


def test_service_accounts_and_namespaces_come_from_the_cluster(admin_client, kube_cluster, core, namespace):
    create_service_account(core, namespace, "builder")
    accounts = admin_client.get(reverse("api:registry-service-account-list", args=[namespace])).json()
    assert accounts == {"service_accounts": ["builder", "default"]}
    assert namespace in admin_client.get(reverse("api:registry-namespace-list")).json()["namespaces"]


def test_invalid_input_is_refused_before_anything_is_written(admin_client, kube_cluster, core, namespace):
    response = create(admin_client, [namespace], name="Bad_Name")
    bad_server = create(admin_client, [namespace], registries=[{**HARBOR, "server": "ftp://x"}])

    assert response.status_code == 400 and "DNS-1123" in str(response.json()["fields"]["name"])
    assert bad_server.status_code == 400 and "ftp" in str(bad_server.json()["fields"])
    assert core.list_namespaced_secret(namespace).items == []


def test_forbidden_names_the_missing_permission(admin_client, db, kube_apiserver, kube_namespace):
    from registry.models import KubeCluster

    KubeCluster.objects.create(name="restricted", kubeconfig_path=str(kube_apiserver.restricted_kubeconfig))

    response = admin_client.get(reverse("api:registry-secret-list", args=[kube_namespace]) + "?cluster=restricted")

    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "kube_forbidden"
    assert f"may not list secrets in namespace {kube_namespace}" in body["detail"]
    assert "berth-restricted" in body["detail"]


def test_unreachable_and_unconfigured_clusters_answer_503(admin_client, db, kube_apiserver, tmp_path, kube_namespace):
    from registry.models import KubeCluster
    from tests.services.kube import free_loopback_port

    url = reverse("api:registry-secret-list", args=[kube_namespace])
    assert admin_client.get(url).json()["code"] == "kube_not_configured"

    dead = tmp_path / "dead.kubeconfig"
    dead.write_text(
        kube_apiserver.admin_kubeconfig.read_text().replace(
            kube_apiserver.url, f"https://127.0.0.1:{free_loopback_port()}"
        )
    )
    KubeCluster.objects.create(name="dead", kubeconfig_path=str(dead), is_default=True)

    response = admin_client.get(url)

    assert response.status_code == 503
    assert response.json()["code"] == "kube_unreachable" and "is unreachable" in response.json()["detail"]
