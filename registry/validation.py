"""Rules for the Kubernetes names and labels Berth accepts, shared by services, API and forms,
so that every entry point refuses the same input in the same words before the API server does."""

import re
from collections.abc import Iterable, Mapping

from dashboard.core.errors import InvalidInput

_DNS_LABEL_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_NAME_RE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", code="invalid_name", extra={"field": field})


def validate_subdomain(value: str, *, field: str) -> str:
    """A DNS-1123 subdomain, the rule for Secret and ServiceAccount names."""
    if not isinstance(value, str) or not value:
        raise _invalid(field, "must not be empty")
    if len(value) > 253:
        raise _invalid(field, f"{value[:40]}… is {len(value)} characters long; at most 253 are allowed")
    if not _DNS_SUBDOMAIN_RE.fullmatch(value):
        raise _invalid(
            field,
            f"{value!r} must be lower-case letters, digits, '-' and '.', starting and ending "
            "with a letter or digit (a DNS-1123 subdomain, e.g. registry-pull)",
        )
    return value


def validate_namespace(value: str, *, field: str = "namespace") -> str:
    """A DNS-1123 label, the rule for namespace names."""
    if not isinstance(value, str) or not value:
        raise _invalid(field, "must not be empty")
    if len(value) > 63 or not _DNS_LABEL_RE.fullmatch(value):
        raise _invalid(
            field,
            f"{value!r} must be at most 63 lower-case letters, digits and '-', starting and "
            "ending with a letter or digit (a DNS-1123 label)",
        )
    return value


def validate_namespace_list(value: object, *, field: str = "namespaces") -> list[str]:
    """A list of distinct namespace names, as a registry quota holds them. Anything else is refused
    rather than read loosely: `"team-a" in "team-a-staging"` is true of a string."""
    if not isinstance(value, list):
        raise _invalid(
            field,
            f'must be a list of namespace names, e.g. ["team-a", "team-a-ci"], not a {_json_kind(value)}',
        )
    for item in value:
        if not isinstance(item, str):
            raise _invalid(field, f"{item!r} is not a namespace name: each item must be a string")
        validate_namespace(item, field=field)
    twice = sorted({name for name in value if value.count(name) > 1})
    if twice:
        raise _invalid(field, f"{', '.join(twice)} is listed twice")
    return value


def _json_kind(value: object) -> str:
    kinds = {str: "string", dict: "JSON object", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def validate_names(values: Iterable[str], *, field: str, rule=validate_subdomain) -> list[str]:
    """Each name checked by `rule`, duplicates dropped, order kept."""
    checked: list[str] = []
    for value in values:
        if rule(value, field=field) not in checked:
            checked.append(value)
    return checked


def validate_labels(labels: Mapping[str, str], *, field: str = "labels") -> dict[str, str]:
    """Label keys ([prefix/]name) and values as Kubernetes defines them."""
    checked: dict[str, str] = {}
    for key, value in labels.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise _invalid(field, "keys and values must be text")
        prefix, slash, name = key.rpartition("/")
        if slash:
            validate_subdomain(prefix, field=f"{field} key {key!r} prefix")
        if not name or len(name) > 63 or not _LABEL_NAME_RE.fullmatch(name):
            raise _invalid(
                field,
                f"key {key!r}: the name part must be 1 to 63 letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit",
            )
        if len(value) > 63 or not _LABEL_NAME_RE.fullmatch(value):
            raise _invalid(
                field,
                f"value {value!r} of {key}: at most 63 letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit (or empty)",
            )
        checked[key] = value
    return checked
