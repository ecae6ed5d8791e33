"""The API lives under /api/v1/; its paths from before versioning answer 410 with their successor,
for every method, rather than a redirect an old client would follow with the old semantics."""

import pytest
from django.test import Client
from django.urls import get_resolver, reverse
from drf_spectacular.generators import SchemaGenerator

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_every_api_route_the_schema_and_the_docs_are_under_v1():
    assert reverse("api-schema") == "/api/v1/schema/" and reverse("api-docs") == "/api/v1/docs/"
    prefix, _resolver = get_resolver().namespace_dict["api"]
    assert prefix == "api/v1/"
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    assert paths and all(path.startswith("/api/v1/") for path in paths)


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "DELETE"])
def test_an_unversioned_path_answers_410_with_its_successor(method, admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    response = client.generic(
        method, "/api/storage/pools/demo/images/x/?namespace=ns1", '{"namespace": "ns1"}', "application/json"
    )

    assert response.status_code == 410
    body = response.json()
    assert body["code"] == "api_moved"
    assert body["successor"] == "/api/v1/storage/pools/demo/images/x/?namespace=ns1"
    assert body["successor"] in body["detail"] and "?namespace=" in body["detail"]
    assert response["Link"] == '</api/v1/storage/pools/demo/images/x/?namespace=ns1>; rel="successor-version"'


@pytest.mark.parametrize(("old", "new"), [("/api/schema/", "/api/v1/schema/"), ("/api/docs/", "/api/v1/docs/")])
def test_the_old_schema_and_docs_point_to_v1(old, new, client):
    response = client.get(old)
    assert (response.status_code, response.json()["successor"]) == (410, new)


def test_an_unknown_version_is_not_found(admin_client):
    assert admin_client.get("/api/v2/storage/pools/").status_code == 404
