"""Berth's one error hierarchy.

Services raise these (translating Ceph and Kubernetes errors at their boundary); the DRF
exception handler and the `htmx/error.html` partial render them. `code` is stable for API
clients, `message` is written for the operator: what went wrong and what to do.

What only the platform's operators may read (server paths, monitor and API server addresses)
goes in `operator_message`: platform admins see it in place of `message`, everyone else sees
`message` with the request id under which the server log holds the operator's version.
"""

import logging
from collections.abc import Callable
from typing import Any

from dashboard.core.context import current_request_id

logger = logging.getLogger(__name__)


def _nobody(actor) -> bool:
    return False


# Who the platform's operators are is the tenancy app's to say, and the core imports no app: the
# tenancy app installs its rule here when Django starts (TenancyConfig.ready). Until then, nobody.
_reads_operator_messages: Callable[[Any], bool] = _nobody


def set_operator_audience(rule: Callable[[Any], bool]) -> None:
    """Install the rule for who may read operator messages (platform admins)."""
    global _reads_operator_messages
    _reads_operator_messages = rule


class BerthError(Exception):
    http_status = 400
    default_code = "error"
    component = "berth"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        component: str | None = None,
        extra: dict[str, Any] | None = None,
        operator_message: str | None = None,
    ):
        self.operator_message = operator_message or message
        if operator_message:
            request_id = current_request_id.get()
            log = "the server log" if request_id == "-" else f"the server log under request id {request_id}"
            message = f"{message} A platform admin can find the details in {log}."
            # Logged when made, so the details are in the log whichever way the error reaches a person
            # (a page, the API, a background task's message).
            logger.warning("%s", operator_message)
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        if component:
            self.component = component
        self.extra = extra or {}

    def message_for(self, actor) -> str:
        return self.operator_message if _reads_operator_messages(actor) else self.message

    def as_dict(self, *, actor=None) -> dict[str, Any]:
        return {"code": self.code, "detail": self.message_for(actor), "component": self.component, **self.extra}


class InvalidInput(BerthError):
    http_status = 400
    default_code = "invalid"


class PermissionDenied(BerthError):
    http_status = 403
    default_code = "permission_denied"


class NotFound(BerthError):
    http_status = 404
    default_code = "not_found"


class Conflict(BerthError):
    http_status = 409
    default_code = "conflict"


class QuotaExceeded(BerthError):
    http_status = 409
    default_code = "quota_exceeded"


class ServiceUnavailable(BerthError):
    http_status = 503
    default_code = "unavailable"


class NotConfigured(BerthError):
    http_status = 503
    default_code = "not_configured"


class NotAuthenticated(BerthError):
    http_status = 401
    default_code = "not_authenticated"
