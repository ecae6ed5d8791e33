"""The kubelet config.json for nodes: in the response only, never stored, audited without passwords."""

import base64

import pytest
from django.urls import reverse

from dashboard.audit.models import AuditEvent
from dashboard.tenancy.models import Membership, Tenant
from tests.helpers import api_client_as, leaks, password_forms, stored_text

pytestmark = pytest.mark.integration

PASSWORD = "Node-pw:kubelet 2f6a"
LOGIN = {"server": "registry.example.com:5000", "username": "robot", "password": PASSWORD}


def test_operators_get_the_file_in_a_no_store_response_only(django_user_model, db):
    operator = django_user_model.objects.create_user("n-operator", password="pw-not-used-0")
    Membership.objects.create(user=operator, tenant=Tenant.objects.create(name="N", slug="n"), role="operator")

    response = api_client_as(operator).post(reverse("api:registry-node-config"), {"registries": [LOGIN]}, format="json")

    assert response.status_code == 200, response.json()
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    entry = body["config"]["auths"]["registry.example.com:5000"]
    assert base64.b64decode(entry["auth"]).decode() == f"robot:{PASSWORD}"
    assert body["install_path"] == "/var/lib/kubelet/config.json"
    assert any("/etc/containers/auth.json" in alternative for alternative in body["alternatives"])
    assert any("/etc/containerd/certs.d" in alternative for alternative in body["alternatives"])
    assert "Every pod on the nodes" in body["warning"]
    [event] = AuditEvent.objects.filter(action="registry.node_config.build")
    assert event.parameters == {"servers": ["registry.example.com:5000"], "usernames": ["robot"]}
    assert leaks(password_forms(PASSWORD, "robot"), stored_text()) == []


def test_viewers_get_no_file(django_user_model, db):
    viewer = django_user_model.objects.create_user("n-viewer", password="pw-not-used-0")
    Membership.objects.create(user=viewer, tenant=Tenant.objects.create(name="N", slug="n"), role="viewer")
    response = api_client_as(viewer).post(reverse("api:registry-node-config"), {"registries": [LOGIN]}, format="json")
    assert response.status_code == 403
    assert PASSWORD not in response.content.decode()
