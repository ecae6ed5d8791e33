"""Berth's one error hierarchy.

Services raise these (translating Ceph and Kubernetes errors at their boundary); the DRF
exception handler and the `htmx/error.html` partial render them. `code` is stable for API
clients, `message` is written for the operator: what went wrong and what to do.
"""

from typing import Any


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
    ):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        if component:
            self.component = component
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.message, "component": self.component, **self.extra}


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
