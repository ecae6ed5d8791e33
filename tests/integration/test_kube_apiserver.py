"""The rules of the real kube-apiserver that Berth's registry app relies on.

These run the official Python client against a real server (tests/services/kube.py), so they
pin down Kubernetes' behaviour, not our assumptions about it.
"""

import base64
import json
import time

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.helpers import wait_for_service_account

pytestmark = pytest.mark.integration

DOCKER_CONFIG = {"auths": {"registry.example.test": {"auth": base64.b64encode(b"robot:s3cret").decode()}}}


def pull_secret(name: str, docker_config_json: bytes) -> client.V1Secret:
    return client.V1Secret(
        metadata=client.V1ObjectMeta(name=name),
        type="kubernetes.io/dockerconfigjson",
        data={".dockerconfigjson": base64.b64encode(docker_config_json).decode()},
    )


def status_of(error: ApiException) -> dict:
    """The Status object the server answers errors with."""
    body = json.loads(error.body)
    assert body["kind"] == "Status"
    return body


def test_pull_secret_round_trips(kube_admin_api, kube_namespace):
    core = client.CoreV1Api(kube_admin_api)
    core.create_namespaced_secret(kube_namespace, pull_secret("registry-pull", json.dumps(DOCKER_CONFIG).encode()))

    stored = core.read_namespaced_secret("registry-pull", kube_namespace)

    assert stored.type == "kubernetes.io/dockerconfigjson"
    assert json.loads(base64.b64decode(stored.data[".dockerconfigjson"])) == DOCKER_CONFIG


def test_pull_secret_that_is_not_json_is_rejected(kube_admin_api, kube_namespace):
    core = client.CoreV1Api(kube_admin_api)

    with pytest.raises(ApiException) as caught:
        core.create_namespaced_secret(kube_namespace, pull_secret("registry-pull", b"not json {"))

    assert caught.value.status == 422
    assert status_of(caught.value)["details"]["causes"][0]["field"] == "data[.dockerconfigjson]"


def test_invalid_secret_name_is_rejected(kube_admin_api, kube_namespace):
    core = client.CoreV1Api(kube_admin_api)

    with pytest.raises(ApiException) as caught:
        core.create_namespaced_secret(kube_namespace, pull_secret("Not_A_DNS_Name", json.dumps(DOCKER_CONFIG).encode()))

    assert caught.value.status == 422
    assert status_of(caught.value)["reason"] == "Invalid"


def test_duplicate_create_conflicts(kube_admin_api, kube_namespace):
    core = client.CoreV1Api(kube_admin_api)
    secret = pull_secret("registry-pull", json.dumps(DOCKER_CONFIG).encode())
    core.create_namespaced_secret(kube_namespace, secret)

    with pytest.raises(ApiException) as caught:
        core.create_namespaced_secret(kube_namespace, secret)

    assert caught.value.status == 409
    assert status_of(caught.value)["reason"] == "AlreadyExists"


def test_stale_resource_version_conflicts(kube_admin_api, kube_namespace):
    core = client.CoreV1Api(kube_admin_api)
    created = core.create_namespaced_secret(
        kube_namespace, pull_secret("registry-pull", json.dumps(DOCKER_CONFIG).encode())
    )
    created.metadata.labels = {"rotated": "once"}
    core.replace_namespaced_secret("registry-pull", kube_namespace, created)

    created.metadata.labels = {"rotated": "twice"}
    with pytest.raises(ApiException) as caught:
        core.replace_namespaced_secret("registry-pull", kube_namespace, created)

    assert caught.value.status == 409
    assert status_of(caught.value)["reason"] == "Conflict"


def test_secret_type_cannot_change(kube_admin_api, kube_namespace):
    core = client.CoreV1Api(kube_admin_api)
    created = core.create_namespaced_secret(
        kube_namespace, pull_secret("registry-pull", json.dumps(DOCKER_CONFIG).encode())
    )
    created.type = "Opaque"

    with pytest.raises(ApiException) as caught:
        core.replace_namespaced_secret("registry-pull", kube_namespace, created)

    assert caught.value.status == 422


def test_restricted_user_works_in_its_namespace(kube_apiserver, kube_restricted_api):
    core = client.CoreV1Api(kube_restricted_api)
    namespace = kube_apiserver.restricted_namespace
    core.create_namespaced_secret(namespace, pull_secret("restricted-pull", json.dumps(DOCKER_CONFIG).encode()))

    try:
        assert "restricted-pull" in [s.metadata.name for s in core.list_namespaced_secret(namespace).items]
    finally:
        core.delete_namespaced_secret("restricted-pull", namespace)


def test_restricted_user_is_forbidden_elsewhere(kube_restricted_api, kube_namespace):
    core = client.CoreV1Api(kube_restricted_api)

    with pytest.raises(ApiException) as caught:
        core.list_namespaced_secret(kube_namespace)

    assert caught.value.status == 403
    assert status_of(caught.value)["reason"] == "Forbidden"


def default_service_account_with_pull_secret(core: client.CoreV1Api, namespace: str) -> client.V1ServiceAccount:
    account = wait_for_service_account(core, namespace)
    account.image_pull_secrets = [client.V1LocalObjectReference(name="existing-pull")]
    return core.replace_namespaced_service_account("default", namespace, account)


def strategic_merge_patch(core: client.CoreV1Api, namespace: str, body: dict) -> client.V1ServiceAccount:
    # The content type must be explicit: this client sends PATCH bodies as
    # application/json-patch+json unless told otherwise.
    return core.patch_namespaced_service_account(
        "default", namespace, body, _content_type="application/strategic-merge-patch+json"
    )


def test_strategic_merge_patch_replaces_service_account_pull_secrets(kube_admin_api, kube_namespace):
    """ServiceAccount.imagePullSecrets is `listType=atomic` with no patch strategy (unlike
    PodSpec.imagePullSecrets, which merges on `name`), so a patch naming one entry drops the rest."""
    core = client.CoreV1Api(kube_admin_api)
    default_service_account_with_pull_secret(core, kube_namespace)

    patched = strategic_merge_patch(core, kube_namespace, {"imagePullSecrets": [{"name": "registry-pull"}]})

    assert [ref.name for ref in patched.image_pull_secrets] == ["registry-pull"]


def test_strategic_merge_patch_adds_pull_secret_and_keeps_existing(kube_admin_api, kube_namespace):
    """Adding safely: patch the whole list, guarded by the resourceVersion it was read at."""
    core = client.CoreV1Api(kube_admin_api)
    account = default_service_account_with_pull_secret(core, kube_namespace)
    names = [ref.name for ref in account.image_pull_secrets]

    patched = strategic_merge_patch(
        core,
        kube_namespace,
        {
            "metadata": {"resourceVersion": account.metadata.resource_version},
            "imagePullSecrets": [{"name": name} for name in [*names, "registry-pull"]],
        },
    )

    assert [ref.name for ref in patched.image_pull_secrets] == ["existing-pull", "registry-pull"]
    # A writer still holding the old read loses instead of silently dropping "registry-pull".
    with pytest.raises(ApiException) as caught:
        strategic_merge_patch(
            core,
            kube_namespace,
            {
                "metadata": {"resourceVersion": account.metadata.resource_version},
                "imagePullSecrets": [{"name": name} for name in [*names, "other-pull"]],
            },
        )
    assert caught.value.status == 409


def test_every_namespace_has_a_default_service_account(kube_admin_api, kube_namespace):
    """The controller manager's serviceaccount controller, as on a real cluster, makes it for a new
    namespace and makes it again when it is deleted."""
    core = client.CoreV1Api(kube_admin_api)
    first = wait_for_service_account(core, kube_namespace)

    core.delete_namespaced_service_account("default", kube_namespace)

    deadline = time.monotonic() + 30
    while wait_for_service_account(core, kube_namespace).metadata.uid == first.metadata.uid:
        assert time.monotonic() < deadline, "the deleted default service account was not made again within 30 s"
        time.sleep(0.1)


def test_dependents_of_a_deleted_owner_are_garbage_collected(kube_admin_api, kube_namespace):
    core = client.CoreV1Api(kube_admin_api)
    owner = core.create_namespaced_config_map(
        kube_namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="owner"), data={"k": "v"})
    )
    dependent = pull_secret("registry-pull", json.dumps(DOCKER_CONFIG).encode())
    dependent.metadata.owner_references = [
        client.V1OwnerReference(api_version="v1", kind="ConfigMap", name="owner", uid=owner.metadata.uid)
    ]
    core.create_namespaced_secret(kube_namespace, dependent)

    core.delete_namespaced_config_map("owner", kube_namespace)

    # The garbage collector first has to discover every resource type, which takes a moment after
    # the controller manager starts.
    deadline = time.monotonic() + 60
    while "registry-pull" in [s.metadata.name for s in core.list_namespaced_secret(kube_namespace).items]:
        assert time.monotonic() < deadline, "the dependent secret outlived its owner by 60 s"
        time.sleep(0.2)
