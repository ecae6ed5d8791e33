"""Every route that accepts POST, PUT, PATCH or DELETE writes an audit event — or is listed as
changing nothing, with the reason. The event must succeed and say where the change came from
(ui, api or admin). See route_samples.py for how to add a route."""

import fnmatch
import json
import re
import uuid
from urllib.parse import urlencode

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from dashboard.audit.models import AuditEvent
from tests.integration.audit.route_samples import NOT_CHANGING, SAMPLES, SampleContext

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
_CONVERTER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
_DUMMY = {"int": "1", "uuid": str(uuid.UUID(int=1)), "path": "1", "slug": "x", "str": "x", None: "x"}


def _routes(resolver=None, prefix="", namespace=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            yield from _routes(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            key = namespace + entry.name if entry.name else f"<unnamed> {pattern}"
            yield key, pattern


def _probe_path(pattern: str) -> str | None:
    if "(?P" in pattern or pattern.startswith("^"):
        return None  # a regex route (the admin's catch-all); no sensible URL to build for it
    return "/" + _CONVERTER.sub(lambda m: _DUMMY.get(m.group("converter"), "x"), pattern)


def _allow_listed(method: str, key: str) -> bool:
    return any(fnmatch.fnmatchcase(f"{method} {key}", pattern) for pattern in NOT_CHANGING)


def test_every_unsafe_route_has_a_sample_or_a_reason(client, admin_user):
    """Sends each method to each route as an admin: anything but 405 means the route accepts it."""
    uncovered = []
    client.force_login(admin_user)  # sign-out routes are allow-listed, so the session survives the probes
    for key, pattern in _routes():
        methods = [method for method in UNSAFE_METHODS if not _allow_listed(method, key)]
        if not methods:
            continue
        path = _probe_path(pattern)
        assert path is not None, f"{key} ({pattern}) is a regex route: add it to NOT_CHANGING or give it a name"
        for method in methods:
            response = client.generic(method, path)
            if response.status_code != 405 and (key, method) not in SAMPLES:
                uncovered.append(f"{method} {key} ({pattern}) answered {response.status_code}")
    assert not uncovered, (
        "Routes accept unsafe methods but have no sample request and no NOT_CHANGING "
        "entry in tests/integration/audit/route_samples.py:\n  " + "\n  ".join(uncovered)
    )


def test_the_allow_list_names_only_existing_routes():
    requests = [f"{method} {key}" for key, _ in _routes() for method in UNSAFE_METHODS]
    stale = [pattern for pattern in NOT_CHANGING if not fnmatch.filter(requests, pattern)]
    assert not stale


def _expected_source(route: str) -> str:
    return "api" if route.startswith("api:") else "admin" if route.startswith("admin:") else "ui"


@pytest.mark.parametrize(("route", "method"), sorted(SAMPLES))
def test_a_valid_request_writes_an_audit_event(route, method, request, client, admin_user):
    sample = SAMPLES[(route, method)]
    client.force_login(admin_user)
    path, data = sample.prepare(SampleContext(request, client, admin_user))
    before = AuditEvent.objects.count()
    if sample.sends_json:
        response = client.generic(method, path, data=json.dumps(data), content_type="application/json")
    else:
        response = client.generic(
            method, path, data=urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded"
        )
    assert response.status_code < 400, response.content.decode()[:3000]
    if response.status_code == 200 and method == "POST" and "errorlist" in response.content.decode():
        pytest.fail(f"the sample for {route} is not valid: the form re-rendered with errors")
    events = list(AuditEvent.objects.order_by("id")[before:])
    recorded = [event for event in events if event.action.startswith(sample.action)]
    assert recorded, (
        f"{method} {path} answered {response.status_code} but wrote no {sample.action} event "
        f"(events: {[e.action for e in events]})"
    )
    assert [(event.action, event.outcome, event.source) for event in recorded] == [
        (event.action, "success", _expected_source(route)) for event in recorded
    ]
