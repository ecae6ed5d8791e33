"""Which addresses "Test login" may connect to (registry/services/registry_login.py); the attacks
through the API and the wizard are in tests/security/test_registry_login_relay.py."""

import ipaddress

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from registry.services.registry_login import DestinationPolicy, DestinationRefused, non_public_kind

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
        ("192.0.0.9", None),  # a global address inside a special-purpose block
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("127.0.0.1", "a loopback address"),
        ("127.255.0.9", "a loopback address"),
        ("::1", "a loopback address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("255.255.255.255", "a reserved address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fc00::1", "a private address"),
        ("fec0::1", "a private address"),  # site-local: deprecated, yet Python calls it global
        ("100.64.0.1", "an address that is not publicly routable"),
        # IPv6 forms that lead to an IPv4 address are judged by where they lead.
        ("::ffff:127.0.0.1", "a loopback address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("2002:7f00:1::", "a loopback address"),  # 6to4
        ("64:ff9b::a9fe:a9fe", "a link-local address"),  # NAT64 of 169.254.169.254
        ("::127.0.0.1", "a reserved address"),  # IPv4-compatible (deprecated)
    ],
)
def test_non_public_kind(address, kind):
    assert non_public_kind(ipaddress.ip_address(address)) == kind


def policy(hosts=(), networks=(), realms=()):
    with override_settings(
        BERTH_REGISTRY_LOGIN_ALLOWED_HOSTS=list(hosts),
        BERTH_REGISTRY_LOGIN_ALLOWED_NETWORKS=list(networks),
        BERTH_REGISTRY_TOKEN_REALM_HOSTS=list(realms),
    ):
        return DestinationPolicy.from_settings()


def test_allowed_hosts_with_and_without_a_port():
    allowed = policy(hosts=["Registry.Corp.", "build.corp:5000", "[::1]:5001", "fd00::7"])
    assert allowed.allows_host("registry.corp", 443) and allowed.allows_host("REGISTRY.corp", 5000)
    assert allowed.allows_host("build.corp", 5000) and not allowed.allows_host("build.corp", 5001)
    assert allowed.allows_host("[::1]", 5001) and not allowed.allows_host("::1", 22)
    assert allowed.allows_host("fd00::7", 22)
    assert not allowed.allows_host("registry.corp.evil.test", 443)


def test_allowed_networks_exempt_their_addresses_only():
    allowed = policy(networks=["10.20.0.0/16", "fd00::/8"])
    assert allowed.refusal(ipaddress.ip_address("10.20.3.4")) is None
    assert allowed.refusal(ipaddress.ip_address("fd12::1")) is None
    assert allowed.refusal(ipaddress.ip_address("10.21.0.1")) == "a private address"
    assert allowed.refusal(ipaddress.ip_address("127.0.0.1")) == "a loopback address"


def test_realm_hosts_are_the_listed_and_the_allowed_ones():
    realms = policy(hosts=["registry.corp"], realms=["auth.docker.io"])
    assert realms.allows_realm_host("auth.docker.io", 443) and realms.allows_realm_host("registry.corp", 8443)
    assert not realms.allows_realm_host("collector.example.com", 443)


def test_addresses_refuse_a_literal_without_connecting():
    with pytest.raises(DestinationRefused) as refused:
        policy().addresses("127.0.0.1", 5000)
    assert refused.value.message.startswith("Test login refused: 127.0.0.1:5000 is a loopback address")
    with pytest.raises(DestinationRefused) as refused:
        policy().addresses("[::1]", 5000)
    assert "[::1]:5000 is a loopback address" in refused.value.message
    assert policy(hosts=["127.0.0.1:5000"]).addresses("127.0.0.1", 5000)[0][4][0] == "127.0.0.1"
    assert policy(networks=["127.0.0.0/8"]).addresses("127.0.0.1", 5000)


@pytest.mark.parametrize(
    ("argument", "value", "setting"),
    [
        ("networks", "10.0.0.0/33", "BERTH_REGISTRY_LOGIN_ALLOWED_NETWORKS"),
        ("networks", "registry.corp", "BERTH_REGISTRY_LOGIN_ALLOWED_NETWORKS"),
        ("hosts", "registry.corp:https", "BERTH_REGISTRY_LOGIN_ALLOWED_HOSTS"),
        ("realms", ":443", "BERTH_REGISTRY_TOKEN_REALM_HOSTS"),
    ],
)
def test_malformed_settings_name_the_variable(argument, value, setting):
    with pytest.raises(ImproperlyConfigured) as raised:
        policy(**{argument: [value]})
    assert str(raised.value).startswith(f"{setting}: ")
    assert value in str(raised.value)
