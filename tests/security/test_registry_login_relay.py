"""Issue 10, hole 5: "Test login" as an open relay.

Each test is the attack: a signed-in user makes Berth connect where it must not (a loopback port,
a private or link-local address, a token realm elsewhere, a name that rebinds to loopback), or
keeps it reading for ever, or tests logins without a tenant role, without limit and without a
trace. Each asserts the attack now fails: the target is never contacted, the answer says why
without telling whether anything listens there, and the attempt is throttled and audited.

The destination settings are set to their production defaults here (nothing private is allowed);
tests/settings.py allows 127.0.0.1 for the other tests' local registries.
"""

import base64
import json
import socket

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from dashboard.audit.models import AuditEvent
from tests.helpers import api_client_as, two_tenants
from tests.security.hostile import (
    Listener,
    answering,
    bearer_registry,
    dripping_headers,
    dripping_json,
    huge_json,
    token_service_with_body,
)

pytestmark = pytest.mark.integration

PASSWORD = "Relay-canary-pw-5d1c"


@pytest.fixture
def production_destinations(settings):
    settings.BERTH_REGISTRY_LOGIN_ALLOWED_HOSTS = []
    settings.BERTH_REGISTRY_LOGIN_ALLOWED_NETWORKS = []
    return settings


@pytest.fixture
def users(db, django_user_model):
    _a, _b, members, _outsider = two_tenants()
    nobody = django_user_model.objects.create_user("in-no-tenant", password="pw-not-used-0")
    return {"nobody": nobody, **members}


@pytest.fixture
def victim():
    """A private service on a loopback port, answering like a web server."""
    with Listener(answering("200 OK", {"Server": "internal-admin"}, b"internal secrets")) as listener:
        yield listener


def allow(settings, *listeners: Listener) -> None:
    settings.BERTH_REGISTRY_LOGIN_ALLOWED_HOSTS = [listener.address for listener in listeners]


def api_test_login(user, server, username="attacker", password=PASSWORD):
    return api_client_as(user).post(
        reverse("api:registry-test-login"),
        {"server": server, "username": username, "password": password},
        format="json",
    )


def ui_test_login(user, server, username="attacker", password=PASSWORD):
    web = Client()
    web.force_login(user)
    row = "registries-0"
    return web.post(
        reverse("registry:wizard-test-login"),
        {
            "row": row,
            f"{row}-server": server,
            f"{row}-username": username,
            f"{row}-password": password,
            f"{row}-email": "",
        },
    )


def refusal(response) -> str:
    """The reason shown for a refused destination, from either the API or the wizard's fragment."""
    body = response.content.decode()
    if response["Content-Type"].startswith("application/json"):
        return response.json().get("detail", body)
    return body


# --- who may test at all ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["nobody", "viewer"])
def test_users_without_an_operator_role_cannot_make_berth_connect(production_destinations, users, victim, who):
    allow(production_destinations, victim)

    by_api = api_test_login(users[who], f"http://{victim.address}")
    by_ui = ui_test_login(users[who], f"http://{victim.address}")

    assert by_api.status_code == 403, by_api.content
    assert by_ui.status_code == 403, by_ui.content
    assert "operator" in refusal(by_api) and "operator" in refusal(by_ui)
    assert victim.connections == 0


def test_an_operator_may_test_an_allowed_registry(production_destinations, users, victim):
    allow(production_destinations, victim)
    response = api_test_login(users["operator"], f"http://{victim.address}")
    assert response.status_code == 200 and response.json()["outcome"] == "ok"
    assert victim.connections == 1


# --- where Berth connects -------------------------------------------------------------------------


FORBIDDEN = [
    ("http://127.0.0.1:{port}", "loopback"),
    ("127.0.0.1:{port}", "loopback"),
    ("http://localhost:{port}", "loopback"),
    ("127.1:{port}", "loopback"),  # inet_aton spellings resolve to 127.0.0.1
    ("2130706433:{port}", "loopback"),
    ("0.0.0.0:{port}", "unspecified"),  # Linux connects this to the machine itself
    ("[::ffff:127.0.0.1]:{port}", "loopback"),
    ("http://[::1]:{port}", "loopback"),
    ("10.1.2.3:{port}", "private"),
    ("192.168.0.1:{port}", "private"),
    ("169.254.169.254", "link-local"),  # cloud metadata services
    ("[fe80::1]:{port}", "link-local"),
    ("224.0.0.1:{port}", "multicast"),
    ("240.0.0.1:{port}", "reserved"),
    ("100.64.0.1:{port}", "not publicly routable"),
]


@pytest.mark.parametrize(("server", "reason"), FORBIDDEN)
def test_private_destinations_are_refused_without_contact(production_destinations, users, victim, server, reason):
    target = server.format(port=victim.port)

    by_api = api_test_login(users["operator"], target)
    by_ui = ui_test_login(users["operator"], target)

    assert by_api.status_code == 403, by_api.content
    assert by_ui.status_code == 403, by_ui.content
    for response in (by_api, by_ui):
        assert "refused" in refusal(response) and reason in refusal(response)
        assert "internal" not in refusal(response)
    assert victim.connections == 0


def test_the_answer_does_not_tell_open_ports_from_closed_ones(production_destinations, users, victim):
    """A port scan through Berth: an open and a closed loopback port must read the same."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()

    answers = {}
    for port in (victim.port, closed_port):
        for scheme in ("http://", ""):
            response = api_test_login(users["operator"], f"{scheme}127.0.0.1:{port}")
            answers[(port, scheme)] = (response.status_code, refusal(response).replace(str(port), "PORT"))

    assert answers[(victim.port, "http://")] == answers[(closed_port, "http://")]
    assert answers[(victim.port, "")] == answers[(closed_port, "")]
    assert victim.connections == 0


def test_an_allowed_port_does_not_open_the_rest_of_loopback(production_destinations, users, victim):
    with Listener(answering("200 OK")) as registry:
        allow(production_destinations, registry)
        assert api_test_login(users["operator"], f"http://{registry.address}").json()["outcome"] == "ok"
        assert api_test_login(users["operator"], f"http://{victim.address}").status_code == 403
    assert victim.connections == 0


def test_a_name_that_rebinds_to_loopback_never_reaches_it(production_destinations, users, monkeypatch):
    """DNS rebinding: the attacker's name answers an allowed address, then a forbidden one. Whatever
    Berth checked must be what it connects to. (The attacker's DNS server is simulated by answering
    for that one name in `getaddrinfo`; every other name resolves as usual.)"""
    production_destinations.BERTH_REGISTRY_LOGIN_ALLOWED_NETWORKS = ["127.0.0.5/32"]
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["127.0.0.5", "127.0.0.1"] * 20)

    def attacker_dns(host, port, *args, **kwargs):
        if host == "rebind.attacker.test":
            address = next(answers)
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port)))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", attacker_dns)
    with Listener() as victim, Listener(answering("200 OK"), host="127.0.0.5", port=victim.port) as allowed:
        answers_seen = [api_test_login(users["operator"], f"rebind.attacker.test:{victim.port}") for _ in range(6)]
        assert victim.connections == 0, [response.content for response in answers_seen]
        assert allowed.connections > 0


@pytest.mark.parametrize(
    "realm",
    [
        "http://127.0.0.1:{victim}/token",  # the registry's own host, but a port nobody allowed
        "https://169.254.169.254/latest/meta-data/",
        "https://collector.attacker.test/steal",  # another host: the password would go there
    ],
)
def test_a_token_realm_cannot_send_berth_elsewhere(production_destinations, users, victim, realm):
    with Listener(bearer_registry(realm.format(victim=victim.port))) as registry:
        allow(production_destinations, registry)
        response = api_test_login(users["operator"], f"http://{registry.address}")

    assert response.status_code == 403, response.content
    assert "refused" in refusal(response)
    assert victim.connections == 0
    assert registry.connections == 1


def test_a_redirect_is_not_followed_to_a_private_address(production_destinations, users, victim):
    with Listener(answering("302 Found", {"Location": f"http://{victim.address}/v2/"})) as registry:
        allow(production_destinations, registry)
        response = api_test_login(users["operator"], f"http://{registry.address}")
    assert response.status_code == 200 and response.json()["outcome"] == "unexpected_response"
    assert victim.connections == 0


# --- how long and how much Berth reads --------------------------------------------------------------


@pytest.mark.parametrize("hostile", ["dripping head", "dripping token", "endless token"])
def test_a_registry_cannot_keep_berth_reading(production_destinations, users, hostile):
    """A slow drip resets any per-read timeout, and a huge body fills memory; the check must end on
    its own total deadline and read a bounded number of bytes."""
    production_destinations.BERTH_REGISTRY_LOGIN_TIMEOUT = 2
    if hostile == "dripping head":
        reply = lambda url: dripping_headers(lines=60, pause=0.25)  # noqa: E731
    elif hostile == "dripping token":
        reply = token_service_with_body(dripping_json(parts=60, pause=0.25))
    else:
        reply = token_service_with_body(huge_json(total=64 * 1024 * 1024))

    with Listener() as placeholder:
        port = placeholder.port
    with Listener(reply(f"http://127.0.0.1:{port}"), port=port) as registry:
        allow(production_destinations, registry)
        response = api_test_login(users["operator"], f"http://{registry.address}")
    result = response.json()

    assert response.status_code == 200, result
    assert result["outcome"] in ("unreachable", "unexpected_response"), result
    assert ("did not finish" in result["message"]) or ("larger than" in result["message"]), result
    assert registry.cut_off == 1  # the trap did not run to its end
    assert registry.completed == (0 if hostile == "dripping head" else 1)  # the token flow's challenge did


# --- how often, and who knows -----------------------------------------------------------------------


@pytest.fixture
def throttle_counts():
    """Throttle counts live in the cache, which outlives a test; start and end with none."""
    cache.clear()
    yield
    cache.clear()


def test_test_login_is_rate_limited_per_user_across_api_and_ui(production_destinations, users, throttle_counts):
    production_destinations.BERTH_REGISTRY_LOGIN_RATE = "3/min"
    with Listener(answering("200 OK")) as registry:
        allow(production_destinations, registry)
        server = f"http://{registry.address}"
        allowed = [
            api_test_login(users["operator"], server),
            ui_test_login(users["operator"], server),
            api_test_login(users["operator"], server),
        ]
        throttled = [api_test_login(users["operator"], server), ui_test_login(users["operator"], server)]
        someone_else = api_test_login(users["admin"], server)

    assert [response.status_code for response in allowed] == [200, 200, 200]
    assert [response.status_code for response in throttled] == [429, 429]
    assert someone_else.status_code == 200
    assert registry.connections == 4


def test_every_test_login_is_audited_without_the_password(production_destinations, users, victim):
    allow(production_destinations, victim)
    operator = users["operator"]
    api_test_login(operator, f"http://{victim.address}", username="robot")
    ui_test_login(operator, f"http://{victim.address}", username="robot")
    api_test_login(operator, "http://127.0.0.1:1", username="robot")
    api_test_login(users["nobody"], f"http://{victim.address}", username="robot")

    events = list(AuditEvent.objects.filter(action="registry.login.test").order_by("id"))
    assert [(event.actor_name, event.outcome, event.source) for event in events] == [
        ("a-operator", "success", "api"),
        ("a-operator", "success", "ui"),
        ("a-operator", "denied", "api"),
        ("in-no-tenant", "denied", "api"),
    ]
    assert events[0].target == {"server": f"http://{victim.address}"}
    assert events[0].parameters == {"username": "robot", "outcome": "ok"}
    recorded = json.dumps([[event.target, event.parameters, event.error] for event in events])
    for secret in (PASSWORD, base64.b64encode(f"robot:{PASSWORD}".encode()).decode()):
        assert secret not in recorded
