"""Issue 10, point 8: views that take passwords were not marked with `sensitive_post_parameters`.

When a request fails, Django's error report (the debug page, the e-mail to ADMINS, anything built on
`django.views.debug.ExceptionReporter`) lists the request's POST parameters unless the view marked
them sensitive. A registry password typed into the wizard, a rotated password, a pasted config.json
or a password posted form-encoded to the API would then land in a mailbox or an error tracker. The
attack posts a canary password to every view that takes one and builds the report Django would send
for that very request.
"""

import base64
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.views.debug import ExceptionReporter
from rest_framework.test import APIClient

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

CANARY = "Report-canary-7e1f"
ROW = {"server": "registry.example.com", "username": "canary-user", "password": CANARY}
AUTH = base64.b64encode(f"u:{CANARY}".encode()).decode()
DOCUMENT = json.dumps({"auths": {"pasted.example.com": {"auth": AUTH}}})


def rows(prefix: str = "registries") -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        **{f"{prefix}-0-{key}": value for key, value in ROW.items()},
    }


def leaks(response) -> bool:
    """Whether Django's error report (text or HTML) for the request that produced `response` holds the password."""
    try:
        raise RuntimeError("a failure inside the view")
    except RuntimeError as error:
        reporter = ExceptionReporter(response.wsgi_request, RuntimeError, error, error.__traceback__)
        report = reporter.get_traceback_text() + reporter.get_traceback_html()
    return CANARY in report or AUTH in report


def secret(namespace: str, view: str) -> str:
    return reverse(f"registry:secret-{view}", args=[namespace, "regkey"]) + "?cluster=local"


def api_secret(namespace: str, view: str) -> str:
    return reverse(f"api:registry-secret-{view}", args=[namespace, "regkey"]) + "?cluster=local"


def ui_posts(namespace: str) -> list[tuple[str, dict]]:
    return [
        (reverse("login"), {"username": "platform-admin", "password": CANARY}),
        (reverse("registry:wizard-credentials"), {**rows(), "config_text": DOCUMENT}),
        (reverse("registry:wizard-test-login"), {"row": "registries-0", **rows()}),
        (secret(namespace, "rotate") + "&server=registry.example.com", {"password": CANARY}),
        (secret(namespace, "add-entry"), ROW),
        (reverse("admin:password_change"), {"old_password": CANARY, "new_password1": CANARY, "new_password2": CANARY}),
        (
            reverse("registry:webhook-create"),
            {"name": "hook", "url": f"https://hooks.example.com/{CANARY}", "secret": CANARY},
        ),
    ]


def api_posts(namespace: str) -> list[tuple[str, dict]]:
    created = {"name": "x", "config_json": DOCUMENT}
    return [
        (reverse("api:registry-secret-list", args=[namespace]) + "?cluster=local", created),
        (reverse("api:registry-secret-bulk-create") + "?cluster=local", created),
        (api_secret(namespace, "rotate"), {"server": "registry.example.com", "password": CANARY}),
        (api_secret(namespace, "entries"), ROW),
        (reverse("api:registry-test-login"), ROW),
    ]


@pytest.fixture
def wizard_at_credentials(admin_client, kube_cluster, namespace) -> Client:
    admin_client.get(reverse("registry:wizard-start"))
    admin_client.post(reverse("registry:wizard-target"), {"cluster": "local", "namespaces": [namespace]})
    return admin_client


def test_no_error_report_of_a_password_taking_page_holds_the_password(wizard_at_credentials, namespace):
    leaking = []
    for url, data in ui_posts(namespace):
        response = wizard_at_credentials.post(url, data)
        if leaks(response):
            leaking.append(url)
    assert leaking == [], leaking


def test_no_error_report_of_a_password_taking_api_holds_the_password(admin_user, kube_cluster, namespace):
    api = APIClient()
    api.force_login(admin_user)
    leaking = []
    for url, data in api_posts(namespace):
        # Form-encoded: any client may send the API a form instead of JSON.
        response = api.post(url, data, format="multipart")
        if leaks(response):
            leaking.append(url)
    assert leaking == [], leaking


def test_a_view_added_later_without_the_decorator_still_hides_posted_passwords(rf):
    """A new password-taking view that forgets `sensitive_post_parameters` must not bring the leak back."""
    request = rf.post("/registry/some-new-page/", {"password": CANARY, "config_text": DOCUMENT})
    try:
        raise RuntimeError("a failure inside a view nobody marked")
    except RuntimeError as error:
        report = ExceptionReporter(request, RuntimeError, error, error.__traceback__).get_traceback_text()
    assert CANARY not in report and AUTH not in report


def _service_holding_a_password(server: str, password: str) -> None:
    credential_document = json.dumps({"auths": {server: {"auth": AUTH}}})
    raise RuntimeError(f"the registry at {server} did not answer ({len(credential_document)} bytes sent)")


def test_a_service_failing_with_a_password_in_its_locals_does_not_show_it(rf):
    """Django's report lists every frame's local variables; a service's `password` argument is one."""
    try:
        _service_holding_a_password("registry.example.com", CANARY)
    except RuntimeError as error:
        reporter = ExceptionReporter(rf.get("/"), RuntimeError, error, error.__traceback__)
        report = reporter.get_traceback_text() + reporter.get_traceback_html()
    assert CANARY not in report and AUTH not in report
