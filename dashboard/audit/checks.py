from collections.abc import Iterable
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, register

_GENERATE = (
    "(umask 077; python -c 'import secrets; print(secrets.token_urlsafe(48))' > /etc/berth/audit-key) "
    "and set BERTH_AUDIT_KEY_FILE=/etc/berth/audit-key"
)
MIN_KEY_LENGTH = 32


@register()
def audit_key_check(app_configs: Iterable[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    """Without a key kept outside the database, anyone who can write to it can rewrite the audit log unnoticed."""
    keys = settings.BERTH_AUDIT_KEYS
    if not keys:
        return [
            Error(
                "No audit key: the audit log's hash chain needs a secret kept outside the database.",
                hint=f"Create one with {_GENERATE} (or set BERTH_AUDIT_KEY), and back it up apart from the database. "
                "See docs/audit.md.",
                id="audit.E001",
            )
        ]
    if len(keys[0]) < MIN_KEY_LENGTH:
        return [
            Error(
                f"The audit key is shorter than {MIN_KEY_LENGTH} characters.",
                hint=f"Generate a new key with {_GENERATE}, and rotate to it as docs/audit.md describes.",
                id="audit.E002",
            )
        ]
    return []
