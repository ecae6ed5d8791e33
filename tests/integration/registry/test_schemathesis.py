"""Property-based run of the registry API against its own OpenAPI schema and the real API
server: no 5xx, and every response matches what the schema promises. Test login is left out:
generated servers would send requests to arbitrary hosts."""

import json

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# Transactional: a real WSGI request closes its database connection when it ends, which would
# close the connection holding a rolled-back test transaction.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_dict(
    json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
).include(path_regex=r"^/api/v1/registry/(?!test-login/)")
schema.app = get_wsgi_application()


@pytest.fixture
def api_token(admin_user, kube_cluster) -> str:
    return Token.objects.create(user=admin_user).key


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_registry_api_honours_its_schema(case, api_token):
    case.call_and_validate(headers={"Authorization": f"Token {api_token}"}, checks=CHECKS)
