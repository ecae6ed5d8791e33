"""Issue 10, point 8: an uploaded config.json was taken whole before its size limit applied.

A docker config.json is a few KiB and Berth refuses one over 256 KiB, but only once Django had
received the whole upload, in memory or in a temporary file: any logged-in user could make each
request hold gigabytes. The attack uploads a file far over the limit (larger than Django keeps in
memory) at the wizard's credentials step, and sends oversized documents to the API. Each must be
refused with a message saying the limit, and Berth must hold no more of an upload than the limit.
"""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from registry import forms as registry_forms

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

LIMIT = 256 * 1024
DOCUMENT = json.dumps({"auths": {"uploaded.example.com": {"username": "u", "password": "p"}}})
HUGE = DOCUMENT.encode() + b" " * (3 * 1024 * 1024)  # valid JSON, over Django's in-memory threshold too


def step(name: str) -> str:
    return reverse(f"registry:wizard-{name}")


@pytest.fixture
def credentials_step(admin_client, kube_cluster, namespace):
    admin_client.get(step("start"))
    assert admin_client.post(step("target"), {"cluster": "local", "namespaces": [namespace]}).url == step("credentials")
    return admin_client


@pytest.fixture
def held_uploads(monkeypatch):
    """How many bytes of each upload Berth holds when the form sees it (in memory or in a temporary file)."""
    held: list[int] = []
    clean = registry_forms.ConfigDocumentForm.clean

    def measuring_clean(form):
        upload = form.files.get("config_file")
        if upload is not None:
            upload.file.seek(0, 2)
            held.append(upload.file.tell())
            upload.file.seek(0)
        return clean(form)

    monkeypatch.setattr(registry_forms.ConfigDocumentForm, "clean", measuring_clean)
    return held


NO_ROWS = {"registries-TOTAL_FORMS": "0", "registries-INITIAL_FORMS": "0"}


def test_an_oversized_upload_is_refused_without_being_held(credentials_step, held_uploads):
    upload = SimpleUploadedFile("config.json", HUGE, content_type="application/json")
    answer = credentials_step.post(step("credentials"), {**NO_ROWS, "config_file": upload})
    assert answer.status_code == 400, answer.status_code
    assert "larger than 256 KiB" in answer.content.decode()
    assert held_uploads and max(held_uploads) <= LIMIT + 1, held_uploads


def test_an_oversized_pasted_document_is_refused(credentials_step):
    answer = credentials_step.post(step("credentials"), {**NO_ROWS, "config_text": DOCUMENT + " " * LIMIT})
    assert answer.status_code == 400, answer.status_code
    assert "256 KiB" in answer.content.decode()


@pytest.fixture
def api(admin_user) -> APIClient:
    api = APIClient()
    api.force_login(admin_user)
    return api


def test_the_api_refuses_an_oversized_config_json(api, kube_cluster, namespace):
    answer = api.post(
        reverse("api:registry-secret-list", args=[namespace]) + "?cluster=local",
        {"name": "oversized", "config_json": DOCUMENT + " " * LIMIT},
        format="json",
    )
    assert answer.status_code == 400, answer.status_code
    assert "256 KiB" in answer.json()["fields"]["config_json"][0]


def test_the_api_refuses_an_oversized_request_body(api, settings, kube_cluster, namespace):
    body = json.dumps({"name": "oversized", "config_json": DOCUMENT, "padding": " " * (3 * 1024 * 1024)})
    answer = api.post(
        reverse("api:registry-secret-list", args=[namespace]) + "?cluster=local", body, content_type="application/json"
    )
    assert answer.status_code in (400, 413), answer.status_code
    assert "too large" in answer.json()["detail"]
