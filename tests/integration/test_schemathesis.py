"""Property-based run of the storage, task and token APIs against their own OpenAPI schema and the real cluster:
no 5xx, and every response matches what the schema promises (status, content type, body)."""

import json

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers import api_token_for, unique_name

# Transactional: a real WSGI request closes its database connection when it ends, which would
# close the connection holding a rolled-back test transaction; and tasks it starts must see their rows.
pytestmark = [pytest.mark.integration, pytest.mark.long, pytest.mark.django_db(transaction=True)]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_token(admin_user, ceph_cluster) -> str:
    return api_token_for(admin_user)


@pytest.fixture(scope="module")
def fuzzed_cluster(ceph_admin):
    """A pool with one image for the generated requests to find, and afterwards the removal of any
    pool the run created, so the generated data never outlives the module."""
    before = set(ceph_admin.pools())
    pool = unique_name("berth-fuzz")
    ceph_admin.create_pool(pool)
    ceph_admin.create_image(f"{pool}/disk", "64M")
    yield pool
    for created in set(ceph_admin.pools()) - before:
        ceph_admin.delete_pool(created)


def _served_schema() -> dict:
    """The schema /api/v1/schema/ serves, generated in-process: loading it over WSGI would need a
    database user at import time, and schemathesis' fixture-based loader does not run on pytest 9."""
    return SchemaGenerator().get_schema(request=None, public=True)


schema = schemathesis.openapi.from_dict(json.loads(json.dumps(_served_schema(), default=str))).include(
    path_regex=r"^/api/v1/(storage|tasks|tokens)/"
)
schema.app = get_wsgi_application()


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_honours_its_schema(case, api_token, fuzzed_cluster):
    case.call_and_validate(headers={"Authorization": f"Token {api_token}"}, checks=CHECKS)
