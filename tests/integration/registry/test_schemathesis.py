"""Property-based run of the registry API against its own OpenAPI schema and the real API
server: no 5xx, and every response matches what the schema promises. Test login is left out:
generated servers would send requests to arbitrary hosts."""

import base64
import json

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from kubernetes import client
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dashboard.tenancy.models import Tenant
from registry.models import RegistryQuota
from registry.services.managed import managed_secret_create
from tests.helpers import api_token_for

# Transactional: a real WSGI request closes its database connection when it ends, which would
# close the connection holding a rolled-back test transaction.
pytestmark = [pytest.mark.integration, pytest.mark.long, pytest.mark.django_db(transaction=True)]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

served = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
schema = schemathesis.openapi.from_dict(served).include(path_regex=r"^/api/v1/registry/(?!test-login/)")
schema.app = get_wsgi_application()
managed_schema = schemathesis.openapi.from_dict(served).include(path_regex=r"^/api/v1/registry/tenants/")
managed_schema.app = schema.app


@pytest.fixture
def api_token(admin_user, kube_cluster) -> str:
    return api_token_for(admin_user)


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_registry_api_honours_its_schema(case, api_token):
    case.call_and_validate(headers={"Authorization": f"Token {api_token}"}, checks=CHECKS)


MANAGED = "fuzz-pull"


@pytest.fixture
def managed_tenant(admin_user, kube_cluster, core, namespace) -> str:
    """A tenant whose registry quota holds a namespace with a real source secret and a managed secret
    kept from it: generated tenant slugs would only ever meet a 404."""
    tenant = Tenant.objects.create(name="Fuzz", slug="fuzz")
    RegistryQuota.objects.create(tenant=tenant, kube_cluster=kube_cluster, namespaces=[namespace])
    document = {"auths": {"registry.example.com": {"username": "robot", "password": "Fuzz-pass-1", "auth": ""}}}
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="source"),
            type="kubernetes.io/dockerconfigjson",
            data={".dockerconfigjson": base64.b64encode(json.dumps(document).encode()).decode()},
        ),
    )
    managed_secret_create(
        actor=admin_user, tenant=tenant, name=MANAGED, source_namespace=namespace, source_name="source"
    )
    return tenant.slug


@managed_schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_managed_secrets_api_honours_its_schema_on_a_real_tenant(case, api_token, managed_tenant):
    """The generated bodies and queries reach a real tenant's managed secret, so they get past the 404
    and meet the validation, the services and the API server."""
    case.path_parameters = {**case.path_parameters, "tenant": managed_tenant}
    if "name" in case.path_parameters:
        case.path_parameters["name"] = MANAGED
    case.call_and_validate(headers={"Authorization": f"Token {api_token}"}, checks=CHECKS)
