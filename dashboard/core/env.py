"""Typed readers for settings that come from the environment.

A bad value must stop start-up with the variable's name in the message, not a
confusing failure deep inside Django later.
"""

import os
import secrets
from pathlib import Path
from typing import overload

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@overload
def env_str(name: str, default: str) -> str: ...


@overload
def env_str(name: str, default: None = None) -> str | None: ...


def env_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/1/0/yes/no, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secrets(name: str) -> list[str]:
    """Secrets, newest first: from NAME (comma-separated) or, when that is unset, from the file named
    by NAME_FILE (one per line; blank lines and `#` comments are skipped). Empty when neither is set."""
    if os.environ.get(name):
        return env_list(name, [])
    path = os.environ.get(f"{name}_FILE")
    if not path:
        return []
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {error.strerror}") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def env_secret(name: str) -> str:
    """One secret, whole (commas included), from NAME or else the file NAME_FILE names; empty when neither is set."""
    if value := os.environ.get(name):
        return value
    path = os.environ.get(f"{name}_FILE")
    if not path:
        return ""
    try:
        return Path(path).read_text().strip()
    except OSError as error:
        raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {error.strerror}") from None


def generated_secret_file(path: Path) -> str:
    """The secret kept in `path`, created (readable by the owner only) when missing: for debug runs,
    so a fresh clone works without setting anything up."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written under another name and linked into place: a second process starting at the same
        # time either links first or reads the complete file, never a half-written one.
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
