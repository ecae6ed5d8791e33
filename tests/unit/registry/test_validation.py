import pytest

from dashboard.core.errors import InvalidInput
from registry.validation import validate_labels, validate_names, validate_namespace, validate_subdomain

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", ["regkey", "registry-pull", "a", "team.example-pull", "0abc", "a" * 253])
def test_valid_subdomains(name):
    assert validate_subdomain(name, field="name") == name


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "must not be empty"),
        ("Bad_Name", "DNS-1123 subdomain"),
        ("-lead", "DNS-1123 subdomain"),
        ("trail.", "DNS-1123 subdomain"),
        ("a..b", "DNS-1123 subdomain"),
        ("a" * 254, "at most 253"),
    ],
)
def test_invalid_subdomains_name_the_field_and_rule(name, says):
    with pytest.raises(InvalidInput) as caught:
        validate_subdomain(name, field="name")
    assert caught.value.message.startswith("name: ") and says in caught.value.message
    assert caught.value.extra == {"field": "name"}


@pytest.mark.parametrize(
    ("namespace", "ok"),
    [
        ("team-a", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ("team.a", False),
        ("Team", False),
        ("", False),
    ],
)
def test_namespaces_are_dns_labels(namespace, ok):
    if ok:
        assert validate_namespace(namespace) == namespace
    else:
        with pytest.raises(InvalidInput):
            validate_namespace(namespace)


def test_names_are_deduplicated_in_order():
    assert validate_names(["b", "a", "b"], field="service_accounts") == ["b", "a"]


@pytest.mark.parametrize(
    ("labels", "ok"),
    [
        ({"team": "payments"}, True),
        ({"example.com/owner": "a_b.c-d"}, True),
        ({"empty-value": ""}, True),
        ({"Bad Key": "x"}, False),
        ({"Example.COM/owner": "x"}, False),
        ({"owner": "-dash"}, False),
        ({"owner": "x" * 64}, False),
        ({"/owner": "x"}, False),
    ],
)
def test_labels(labels, ok):
    if ok:
        assert validate_labels(labels) == labels
    else:
        with pytest.raises(InvalidInput):
            validate_labels(labels)
