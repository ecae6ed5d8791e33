"""Issue 10, point 8: deeply nested JSON in a docker config document answered 500 (RecursionError).

Python's json module recurses once per nesting level, so `[[[[...` a hundred thousand deep exhausts
the interpreter's stack. The attack sends such a document everywhere Berth reads one: pasted and
uploaded at the wizard's credentials step, as `config_json` and as the whole body of the API's
secret creation, and stored in a pull secret that Berth then lists. Each must be refused (or the
secret listed with its problem) with a clear message, never a server error.
"""

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from kubernetes import client
from rest_framework.test import APIClient

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

NESTED = "[" * 100_000
NESTED_OBJECTS = '{"a": ' * 20_000  # under the size limit: refused for its depth alone
# The API server refuses a dockerconfigjson that is not a valid config or is nested deeper than 10 000 levels;
# Python's json gives up near 1 000.
NESTED_BUT_STORABLE = '{"auths": {"registry.example.com": {"padding": ' + "[" * 5_000 + "]" * 5_000 + "}}}"


def step(name: str) -> str:
    return reverse(f"registry:wizard-{name}")


@pytest.fixture
def credentials_step(admin_client, kube_cluster, namespace):
    admin_client.get(step("start"))
    assert admin_client.post(step("target"), {"cluster": "local", "namespaces": [namespace]}).url == step("credentials")
    return admin_client


@pytest.fixture
def api(admin_user) -> APIClient:
    api = APIClient()
    api.force_login(admin_user)
    return api


NO_ROWS = {"registries-TOTAL_FORMS": "0", "registries-INITIAL_FORMS": "0"}


@pytest.mark.parametrize("document", [NESTED, NESTED_OBJECTS])
def test_the_wizard_refuses_a_deeply_nested_pasted_document(credentials_step, document):
    answer = credentials_step.post(step("credentials"), {**NO_ROWS, "config_text": document})
    assert answer.status_code == 400, answer.status_code
    assert "nested too deeply" in answer.content.decode()


def test_the_wizard_refuses_a_deeply_nested_uploaded_document(credentials_step):
    upload = SimpleUploadedFile("config.json", NESTED.encode(), content_type="application/json")
    answer = credentials_step.post(step("credentials"), {**NO_ROWS, "config_file": upload})
    assert answer.status_code == 400, answer.status_code
    assert "nested too deeply" in answer.content.decode()


def test_the_api_refuses_a_deeply_nested_config_json(api, kube_cluster, namespace):
    answer = api.post(
        reverse("api:registry-secret-list", args=[namespace]) + "?cluster=local",
        {"name": "nested", "config_json": NESTED},
        format="json",
    )
    assert answer.status_code == 400, answer.status_code
    assert "nested too deeply" in answer.json()["fields"]["config_json"][0]


def test_the_api_refuses_a_deeply_nested_request_body(api, kube_cluster, namespace):
    answer = api.post(
        reverse("api:registry-secret-list", args=[namespace]) + "?cluster=local",
        NESTED,
        content_type="application/json",
    )
    assert answer.status_code == 400, answer.status_code
    assert "nested too deeply" in answer.json()["detail"]


def test_a_stored_secret_with_a_deeply_nested_document_is_listed_with_its_problem(api, core, kube_cluster, namespace):
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="nested"),
            type="kubernetes.io/dockerconfigjson",
            data={".dockerconfigjson": base64.b64encode(NESTED_BUT_STORABLE.encode()).decode()},
        ),
    )
    answer = api.get(reverse("api:registry-secret-list", args=[namespace]), {"cluster": "local"})
    assert answer.status_code == 200, answer.status_code
    [listed] = [secret for secret in answer.json() if secret["name"] == "nested"]
    assert "nested too deeply" in listed["problem"]
