"""The wizard across two web processes (gunicorn, as command 1 serves Berth), with every request
going to the other one than the last: the passwords typed at the credentials step still reach Create,
and afterwards no trace of them is left in the database (cache table included), the servers' logs or
anything the browser received."""

import base64
import itertools

import pytest
import requests
from django.db import connection
from django.urls import reverse

from registry.models import WizardPasswords
from registry.wizard import PasswordVault
from tests.fixtures.berth import TEST_PASSWORD
from tests.helpers import decoded_auth, leaks, linked_secrets, password_forms, stored_config, stored_text
from tests.services.berth import berth_web

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CANARY = "Two-process-canary-8e1f"
ROW = {"server": "harbor.example.com", "username": "robot$two", "password": CANARY}


def step(name: str) -> str:
    return reverse(f"registry:wizard-{name}")


def test_the_wizard_works_across_two_processes_and_leaves_no_password_behind(
    tmp_path, kube_cluster, core, namespace, admin_user
):
    database = f"sqlite:///{connection.settings_dict['NAME']}"
    logs = [tmp_path / "web-a.log", tmp_path / "web-b.log"]
    received: list[str] = []
    with berth_web(database, log=logs[0]) as first, berth_web(database, log=logs[1]) as second:
        servers = itertools.cycle([first, second])
        browser = requests.Session()

        def send(method: str, path: str, data=None) -> requests.Response:
            headers = {"X-CSRFToken": browser.cookies.get("csrftoken", "")}
            response = browser.request(method, next(servers) + path, data=data, headers=headers, allow_redirects=False)
            received.append(f"{response.headers}\n{response.cookies.get_dict()}\n{response.text}")
            return response

        def moved_to(response: requests.Response) -> str:
            assert response.status_code == 302, response.text[:2000]
            return response.headers["Location"]

        send("GET", reverse("login"))
        assert moved_to(send("POST", reverse("login"), {"username": admin_user.username, "password": TEST_PASSWORD}))
        assert moved_to(send("GET", step("start"))) == step("target")
        assert moved_to(send("POST", step("target"), {"cluster": "local", "namespaces": [namespace]})) == step(
            "credentials"
        )
        rows = {"registries-TOTAL_FORMS": "1", "registries-INITIAL_FORMS": "0"}
        rows.update({f"registries-0-{key}": value for key, value in ROW.items()})
        assert moved_to(send("POST", step("credentials"), rows)) == step("options")
        # What is kept between the processes is sealed; the key is only in the browser.
        sealed = bytes(WizardPasswords.objects.get().sealed)
        assert CANARY.encode() not in sealed
        assert PasswordVault.COOKIE in browser.cookies
        options = {"name": "two-procs", "type": "kubernetes.io/dockerconfigjson", "service_accounts": ["default"]}
        assert moved_to(send("POST", step("options"), options)) == step("review")
        assert send("GET", step("review")).status_code == 200
        assert moved_to(send("POST", step("review"), {"next": "1"})) == step("result")
        result = send("GET", step("result"))
        assert 'data-outcome="created"' in result.text

    _, document = stored_config(core, namespace, "two-procs")
    assert decoded_auth(document["auths"]["harbor.example.com"]) == f"robot$two:{CANARY}"
    assert linked_secrets(core, namespace) == ["two-procs"]
    assert not WizardPasswords.objects.exists()

    canaries = [*password_forms(CANARY, ROW["username"]), base64.b64encode(CANARY.encode()).decode()]
    places = {
        **stored_text(),
        "browser": "\n".join(received),
        **{f"log {log.name}": log.read_text() for log in logs},
    }
    assert leaks(canaries, places) == []
