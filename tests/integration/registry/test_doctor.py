"""The pull doctor on pods made in the real API server. No kubelet runs, so each test sets the
container's waiting state through the pod's status subresource and records the kubelet's events
with the admin client, as a kubelet would."""

import pytest
from django.urls import reverse
from kubernetes import client

from registry.dockerconfig import Credential
from registry.services.secrets import secret_create
from tests.helpers import create_service_account, failing_pod

pytestmark = pytest.mark.integration

APP_IMAGE = "registry.example.com/team/app/api:1.4"


def make_pull_secret(actor, cluster, namespace, name, server, link=("default",)):
    [result] = secret_create(
        actor=actor,
        cluster=cluster,
        namespaces=[namespace],
        name=name,
        credentials=[Credential(server=server, username="robot", password="pw-" + name)],
        service_accounts=list(link),
    )
    assert result.ok, result.message


def diagnose(admin_client, namespace):
    response = admin_client.get(reverse("api:registry-doctor", args=[namespace]))
    assert response.status_code == 200, response.json()
    return {pod["pod"]: pod for pod in response.json()}


def test_explains_a_path_prefix_mismatch(admin_client, admin_user, kube_cluster, core, namespace):
    make_pull_secret(admin_user, kube_cluster, namespace, "regkey", "registry.example.com/team/other")
    failing_pod(core, namespace, "api", APP_IMAGE)  # gets regkey from the service account at creation
    core.create_namespaced_pod(
        namespace,
        client.V1Pod(
            metadata=client.V1ObjectMeta(name="healthy"),
            spec=client.V1PodSpec(containers=[client.V1Container(name="main", image="nginx")]),
        ),
    )

    pods = diagnose(admin_client, namespace)

    assert list(pods) == ["api"]
    [container] = pods["api"]["containers"]
    assert container["reason"] == "ImagePullBackOff"
    diagnosis = container["diagnosis"]
    assert diagnosis["match"] is None
    assert diagnosis["secrets"] == [
        {"name": "regkey", "source": "pod", "status": "ok", "detail": "holds registry.example.com/team/other"}
    ]
    assert (
        "secret regkey holds registry.example.com/team/other, which is not a prefix of "
        "registry.example.com/team/app/api"
    ) in diagnosis["findings"]
    [event] = pods["api"]["events"]
    assert event["reason"] == "Failed" and event["count"] == 4 and "unauthorized" in event["message"]


def test_explains_a_missing_secret_and_finds_the_matching_one(admin_client, admin_user, kube_cluster, core, namespace):
    make_pull_secret(admin_user, kube_cluster, namespace, "team-key", "registry.example.com/team", link=())
    failing_pod(core, namespace, "worker", APP_IMAGE, reason="ErrImagePull", pull_secrets=["gone", "team-key"])

    [container] = diagnose(admin_client, namespace)["worker"]["containers"]

    diagnosis = container["diagnosis"]
    assert [(s["name"], s["status"]) for s in diagnosis["secrets"]] == [("gone", "missing"), ("team-key", "ok")]
    assert (
        f"secret gone is referenced by pod worker but does not exist in namespace {namespace}" in diagnosis["findings"]
    )
    assert diagnosis["match"]["secret"] == "team-key"
    assert diagnosis["match"]["server"] == "registry.example.com/team"
    assert diagnosis["match"]["username"] == "robot"


def test_says_when_the_service_account_got_the_secret_after_the_pod(
    admin_client, admin_user, kube_cluster, core, namespace
):
    failing_pod(core, namespace, "early", APP_IMAGE)
    make_pull_secret(admin_user, kube_cluster, namespace, "regkey", "registry.example.com")

    diagnosis = diagnose(admin_client, namespace)["early"]["containers"][0]["diagnosis"]

    assert diagnosis["secrets"] == []
    assert any(
        "service account default lists regkey, which pod early does not have" in finding
        for finding in diagnosis["findings"]
    )


def test_image_typed_in_before_any_pod_exists(admin_client, admin_user, kube_cluster, core, namespace):
    make_pull_secret(admin_user, kube_cluster, namespace, "regkey", "registry.example.com/team/other")
    create_service_account(core, namespace, "builder", pull_secrets=("ghost",))
    url = reverse("api:registry-doctor-image", args=[namespace])

    for_default = admin_client.get(url, {"image": APP_IMAGE}).json()
    for_builder = admin_client.get(url, {"image": "registry.example.com/team/other/tool", "service_account": "builder"})
    for_nobody = admin_client.get(url, {"image": APP_IMAGE, "service_account": "nobody"}).json()
    bad_image = admin_client.get(url, {"image": "Not An Image"})

    assert for_default["image"] == APP_IMAGE and for_default["match"] is None
    assert any("which is not a prefix of registry.example.com/team/app/api" in f for f in for_default["findings"])
    assert (
        f"secret ghost is referenced by service account builder but does not exist in namespace {namespace}"
        in for_builder.json()["findings"]
    )
    assert any("service account nobody does not exist" in f for f in for_nobody["findings"])
    assert bad_image.status_code == 400 and bad_image.json()["code"] == "invalid_image_reference"

    matching = admin_client.get(url, {"image": "registry.example.com/team/other/tool:2"}).json()
    assert matching["match"]["secret"] == "regkey"
