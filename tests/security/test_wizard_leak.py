"""Issue 10, hole 6: a pasted config.json comes back in the wizard's HTML.

The attack is an operator's ordinary mistake: paste a config.json (or type a password) and get
something else wrong on the same step. Whatever the page shows next, the browser history, a proxy
log or a screenshot must not hold the password. The wizard is walked through every step and every
error path with canary passwords, typed and pasted and uploaded; then each canary — plain, as the
base64 of "user:password", and as the base64 of the whole pasted document — is searched for in every
response (bodies, headers, cookies), every database table (sessions decoded), the logs (every logger
at DEBUG) and the audit rows. The API side of the same search is
tests/integration/registry/test_no_password_leaks.py.
"""

import base64
import json
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from registry.models import WizardPasswords
from registry.wizard import SESSION_KEY
from tests.helpers import leaks, password_forms, stored_text

pytestmark = pytest.mark.integration

USER = "canary-user"
TYPED = "Wizard-canary-typed-4b7e"
PASTED = "Wizard-canary-pasted-9d3a"
UPLOADED = "Wizard-canary-uploaded-2f6c"


def auth(password: str, username: str = USER) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


# Valid documents, and documents refused for each reason parse_config has, every one with a canary.
GOOD_DOCUMENT = json.dumps({"auths": {"pasted.example.com": {"auth": auth(PASTED)}}})
BAD_DOCUMENTS = {
    "not JSON": GOOD_DOCUMENT[:-1],
    "not an object": json.dumps([{"auth": auth(PASTED)}]),
    "auths not an object": json.dumps({"auths": [auth(PASTED)]}),
    "a bad auth beside a good one": json.dumps(
        {"auths": {"pasted.example.com": {"auth": auth(PASTED)}, "broken.example.com": {"auth": "%%%"}}}
    ),
    "auth without a colon": json.dumps(
        {"auths": {"pasted.example.com": {"auth": base64.b64encode(PASTED.encode()).decode()}}}
    ),
    "username and password with a line break": json.dumps(
        {"auths": {"pasted.example.com": {"username": USER, "password": PASTED + "\n"}}}
    ),
    "password without username": json.dumps({"auths": {"pasted.example.com": {"password": PASTED}}}),
    "a bad server key": json.dumps({"auths": {"ftp://pasted.example.com": {"auth": auth(PASTED)}}}),
    "only a credential helper": json.dumps(
        {"auths": {"pasted.example.com": {}}, "credsStore": "desktop", "HttpHeaders": {"X-Canary": PASTED}}
    ),
}
GOOD_UPLOAD = json.dumps({"auths": {"uploaded.example.com": {"auth": auth(UPLOADED)}}}).encode()
BAD_UPLOADS = {
    "not JSON": GOOD_UPLOAD[:-1],
    "not UTF-8": b"\xff\xfe" + GOOD_UPLOAD,
    "too large": GOOD_UPLOAD + b" " * (300 * 1024),
}

GOOD_ROW = {"server": "typed.example.com", "username": USER, "password": TYPED}
BAD_ROWS = {
    "a bad server": {**GOOD_ROW, "server": "ftp://typed.example.com"},
    "no username": {**GOOD_ROW, "username": ""},
    "a username with a colon": {**GOOD_ROW, "username": f"{USER}:x"},
    "a password with a line break": {**GOOD_ROW, "password": TYPED + "\n"},
    "a server with whitespace": {**GOOD_ROW, "server": "typed example.com"},
    "the login typed into the server": {**GOOD_ROW, "server": f"https://{USER}:{TYPED}@typed.example.com"},
    "another scheme with the login": {**GOOD_ROW, "server": f"ftp://{USER}:{TYPED}@typed.example.com"},
}


def step(name):
    return reverse(f"registry:wizard-{name}")


def rows_data(*rows):
    data = {"registries-TOTAL_FORMS": str(len(rows)), "registries-INITIAL_FORMS": "0"}
    for index, row in enumerate(rows):
        data.update({f"registries-{index}-{key}": value for key, value in row.items()})
    return data


class Browser:
    """Everything the operator's browser received: bodies, headers and cookies."""

    def __init__(self, client):
        self.client, self.received = client, []

    def get(self, url, **kwargs):
        return self._keep(self.client.get(url, **kwargs))

    def post(self, url, data=None, **kwargs):
        return self._keep(self.client.post(url, data or {}, **kwargs))

    def _keep(self, response):
        self.received.append(
            response.serialize_headers().decode("latin-1") + response.cookies.output() + response.content.decode()
        )
        return response


@pytest.fixture
def every_logger_at_debug(caplog):
    for name in (None, "kubernetes", "urllib3", "registry", "dashboard", "django", "requests"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_no_step_or_error_path_gives_a_password_back(
    admin_client, kube_cluster, namespace, htpasswd_registry, every_logger_at_debug
):
    web = Browser(admin_client)
    web.get(reverse("registry:wizard-start"))
    assert web.post(step("target"), {"cluster": "local"}).status_code == 400
    assert web.post(step("target"), {"cluster": "local", "namespaces": [namespace]}).url == step("credentials")
    web.get(step("credentials"))

    refused = []

    def credentials(data, files=None, why=""):
        response = web.post(step("credentials"), {**data, **(files or {})})
        if response.status_code != 302:
            refused.append(why)
        return response

    # Each way a row can be wrong, alone and next to a good pasted document (the reported hole).
    for why, row in BAD_ROWS.items():
        credentials(rows_data(row), why=why)
        credentials({**rows_data(row), "config_text": GOOD_DOCUMENT}, why=f"{why}, with a good paste")
        credentials({**rows_data(GOOD_ROW, row), "config_text": GOOD_DOCUMENT}, why=f"{why}, second row")
    # Each way a pasted or uploaded document can be wrong, beside a good row.
    for why, document in BAD_DOCUMENTS.items():
        credentials({**rows_data(GOOD_ROW), "config_text": document}, why=f"paste: {why}")
    for why, content in BAD_UPLOADS.items():
        credentials(
            rows_data(GOOD_ROW), {"config_file": SimpleUploadedFile("config.json", content)}, why=f"upload: {why}"
        )
    credentials({**rows_data({"server": "", "username": "", "password": ""}), "config_text": "  "}, why="nothing given")
    credentials(
        {
            **rows_data(BAD_ROWS["a bad server"]),
            "config_text": GOOD_DOCUMENT,
            "config_file": SimpleUploadedFile("config.json", GOOD_UPLOAD),
        },
        why="good upload, bad row",
    )
    assert len(refused) == 3 * len(BAD_ROWS) + len(BAD_DOCUMENTS) + len(BAD_UPLOADS) + 2, refused
    # Back with wrong input goes back without keeping it.
    web.post(step("credentials"), {**rows_data(BAD_ROWS["a bad server"]), "config_text": GOOD_DOCUMENT, "back": "1"})
    web.post(step("target"), {"cluster": "local", "namespaces": [namespace]})

    # Test login from a row: accepted, refused, invalid, a destination Berth does not contact.
    registry_url, registry_user, registry_password = htpasswd_registry
    for server, username, password in (
        (registry_url, registry_user, registry_password),
        (registry_url, registry_user, TYPED),
        ("ftp://typed.example.com", USER, TYPED),
        (f"{USER}:{TYPED}@typed.example.com", USER, TYPED),
        ("10.20.30.40", USER, TYPED),
    ):
        web.post(
            reverse("registry:wizard-test-login"),
            {
                "row": "registries-0",
                "registries-0-server": server,
                "registries-0-username": username,
                "registries-0-password": password,
                "registries-0-email": "",
            },
        )

    # The good path, with a typed row, a paste and an upload, and the later steps' own errors.
    good = {**rows_data(GOOD_ROW), "config_text": GOOD_DOCUMENT}
    assert web.post(step("credentials"), good).url == step("options")
    assert (
        web.post(step("options"), {"name": "Not_A_Name", "type": "kubernetes.io/dockerconfigjson"}).status_code == 400
    )
    options = {
        "name": "leak-check",
        "type": "kubernetes.io/dockerconfigjson",
        "service_accounts": ["default"],
        "labels": "",
    }
    assert web.post(step("options"), options).url == step("review")
    web.get(step("review"))
    assert web.post(step("review"), {"back": "1"}).url == step("options")
    web.get(step("options"))
    web.get(step("credentials"))  # forgets the held passwords
    assert web.post(
        step("credentials"), {**rows_data(GOOD_ROW), "config_file": SimpleUploadedFile("config.json", GOOD_UPLOAD)}
    ).url == step("options")
    web.post(step("options"), options)
    # The sealed passwords' time is up: back to credentials.
    wizard_id = admin_client.session[SESSION_KEY]["id"]
    assert WizardPasswords.objects.filter(wizard_id=wizard_id).update(expires=timezone.now()) == 1
    assert web.post(step("review"), {"next": "1"}).url == step("credentials")
    web.get(step("credentials"))
    assert web.post(step("credentials"), good).url == step("options")
    web.post(step("options"), options)
    web.get(step("review"))
    assert web.post(step("review"), {"next": "1"}).url == step("result")
    web.get(step("result"))
    web.post(step("result"), {})

    canaries = [
        canary
        for password in (TYPED, PASTED, UPLOADED, registry_password)
        for canary in password_forms(password, USER if password != registry_password else registry_user)
    ]
    canaries += [base64.b64encode(document.encode()).decode() for document in (GOOD_DOCUMENT, *BAD_DOCUMENTS.values())]
    canaries += [base64.b64encode(content).decode() for content in (GOOD_UPLOAD, *BAD_UPLOADS.values())]
    logs = every_logger_at_debug.text + "\n".join(record.getMessage() for record in every_logger_at_debug.records)
    places = {**stored_text(), "logs": logs, "responses": "\n".join(web.received)}

    assert not leaks(canaries, places)
    # The search looked at real content: the pages, the secret's creation and its audit event are there.
    assert "pasted.example.com" in places["responses"] and "<textarea" in places["responses"]
    assert "registry.secret.create" in places["audit"] and "leak-check" in places["database"]
