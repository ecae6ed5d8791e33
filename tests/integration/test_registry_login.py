"""The "Test login" check against real Debian docker-registry processes (Basic and Bearer auth)."""

import base64
import logging
from urllib.parse import urlsplit

import pytest

from registry.dockerconfig import DockerConfigError
from registry.services.registry_login import LoginOutcome, check_login, registry_endpoint
from tests.services.docker_registry import DockerRegistry, free_loopback_port

pytestmark = pytest.mark.integration

REGISTRIES = ["htpasswd_registry", "token_registry"]
SCHEME = {"htpasswd_registry": "basic", "token_registry": "bearer"}


@pytest.fixture(params=REGISTRIES)
def registry(request):
    return request.param, request.getfixturevalue(request.param)


def test_right_credentials_log_in(registry):
    name, (url, username, password) = registry
    result = check_login(url, username, password)
    assert result.outcome is LoginOutcome.OK, result.message
    assert result.ok
    assert result.auth_scheme == SCHEME[name]
    assert result.endpoint == f"{url}/v2/"
    assert username in result.message


@pytest.mark.parametrize("which", ["password", "username"])
def test_wrong_credentials_are_refused(registry, which):
    name, (url, username, password) = registry
    if which == "password":
        result = check_login(url, username, password + "-wrong")
    else:
        result = check_login(url, "someone-else", password)
    assert result.outcome is LoginOutcome.WRONG_CREDENTIALS, result.message
    assert not result.ok
    assert result.auth_scheme == SCHEME[name]
    assert "wrong username or password" in result.message


def test_password_differing_only_in_encoding_is_refused(htpasswd_registry):
    # The fixture password has a non-ASCII letter: sent as Latin-1 (requests' default) it would not match.
    url, username, password = htpasswd_registry
    assert check_login(url, username, password).ok
    assert check_login(url, username, password.replace("ü", "u")).outcome is LoginOutcome.WRONG_CREDENTIALS


def test_nothing_listening_is_unreachable():
    url = f"http://127.0.0.1:{free_loopback_port()}"
    result = check_login(url, "anyone", "secret-pw-unreachable")
    assert result.outcome is LoginOutcome.UNREACHABLE
    assert "connection refused" in result.message
    assert result.auth_scheme is None


def test_unresolvable_host_is_unreachable():
    result = check_login("registry.invalid", "anyone", "secret-pw-dns", timeout=3)
    assert result.outcome is LoginOutcome.UNREACHABLE, result.message
    assert "registry.invalid" in result.message


def test_https_to_a_plain_http_registry_is_a_tls_error(htpasswd_registry):
    url, username, password = htpasswd_registry
    result = check_login(url.removeprefix("http://"), username, password)
    assert result.outcome is LoginOutcome.TLS_ERROR, result.message
    assert result.endpoint.startswith("https://127.0.0.1:")


def test_token_service_outage_is_unreachable():
    with DockerRegistry(username="outage", password="pw-outage", auth="token") as registry:
        realm_host = urlsplit(registry.token_issuer.realm).netloc
        registry.token_issuer.stop()
        result = check_login(registry.url, "outage", "pw-outage")
    assert result.outcome is LoginOutcome.UNREACHABLE, result.message
    assert result.auth_scheme == "bearer"
    assert realm_host in result.message


@pytest.mark.parametrize("server", ["http://registry.example.com", "http://10.0.0.5:5000", "*.example.com"])
def test_untestable_servers_are_refused_before_any_request(server):
    with pytest.raises(DockerConfigError) as raised:
        check_login(server, "anyone", "secret-pw-refused")
    assert raised.value.field == "server"


@pytest.mark.parametrize(
    ("server", "endpoint"),
    [
        ("", "https://registry-1.docker.io/v2/"),
        ("docker.io", "https://registry-1.docker.io/v2/"),
        ("https://index.docker.io/v1/", "https://registry-1.docker.io/v2/"),
        ("registry.example.com:5000/team/app", "https://registry.example.com:5000/v2/"),
        ("http://localhost:5000", "http://localhost:5000/v2/"),
        ("http://[::1]:5000", "http://[::1]:5000/v2/"),
    ],
)
def test_endpoint_for_server(server, endpoint):
    assert registry_endpoint(server) == endpoint


def test_password_never_appears_in_results_or_logs(htpasswd_registry, token_registry, caplog):
    caplog.set_level(logging.DEBUG)
    secrets_seen = []
    results = []
    for url, username, password in (htpasswd_registry, token_registry):
        secrets_seen += [password, base64.b64encode(f"{username}:{password}".encode()).decode()]
        results += [check_login(url, username, password), check_login(url, username, password + "x")]
    dead = f"http://127.0.0.1:{free_loopback_port()}"
    results.append(check_login(dead, "anyone", htpasswd_registry.password))
    assert {result.outcome for result in results} == {
        LoginOutcome.OK,
        LoginOutcome.WRONG_CREDENTIALS,
        LoginOutcome.UNREACHABLE,
    }

    logged = caplog.text + "\n".join(str(record.args) for record in caplog.records)
    assert "registry login check" in caplog.text
    for result in results:
        shown = f"{result!r} {result} {result.message}"
        for secret in secrets_seen:
            assert secret not in shown
            assert secret not in logged
