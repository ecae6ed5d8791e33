"""Recording of every change Berth makes, in one place: the service layer.

Each service that changes something is declared with `@audited_action(...)`. The declaration
names the action, which keyword arguments identify the target, and which are safe to keep as
parameters: an allow-list, so a password or key passed to a service can never reach the log
by accident. The decorator records one event per call with its outcome and duration.
"""

import functools
import time
from typing import Any, Callable

from dashboard.context import current_client_ip, current_request_id, current_source
from dashboard.errors import BerthError

# Refusals are "denied" rather than "failed": the request was understood and not allowed.
DENIED_CODES = {"permission_denied", "quota_exceeded", "role_denied", "tenant_denied"}

_declared_actions: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def declared_actions() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Every audited action with its target and parameter allow-lists (for tests and docs)."""
    return dict(_declared_actions)


def audited_action(action: str, *, target: tuple[str, ...], params: tuple[str, ...] = ()) -> Callable:
    """Declare a keyword-only service function as an audited change.

    `target` and `params` name keyword arguments of the service; model instances among them
    are recorded by their string form. Arguments not named are never recorded.
    """
    if action in _declared_actions:
        raise ValueError(f"audit action {action} is declared twice")
    _declared_actions[action] = (target, params)

    def decorate(service: Callable) -> Callable:
        @functools.wraps(service)
        def run(*args: Any, **kwargs: Any) -> Any:
            if args:
                raise TypeError(f"{service.__name__} takes keyword arguments only")
            started = time.monotonic()
            outcome, error_message = "success", ""
            try:
                return service(**kwargs)
            except BerthError as error:
                outcome = "denied" if error.code in DENIED_CODES else "failed"
                error_message = error.message
                raise
            except Exception as error:
                outcome, error_message = "failed", f"internal error: {type(error).__name__}"
                raise
            finally:
                record_event(
                    actor=kwargs.get("actor"),
                    action=action,
                    target={name: _plain(kwargs.get(name)) for name in target if kwargs.get(name) not in (None, "")},
                    parameters={name: _plain(kwargs[name]) for name in params if name in kwargs},
                    outcome=outcome,
                    error=error_message,
                    duration_ms=int((time.monotonic() - started) * 1000),
                )

        return run

    return decorate


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return str(value)


def record_event(*, actor, action: str, target: dict[str, Any], parameters: dict[str, Any], outcome: str,
                 error: str = "", duration_ms: int = 0, tenant=None) -> None:
    from dashboard.models import AuditEvent

    AuditEvent.record(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        target=target,
        parameters=parameters,
        outcome=outcome,
        error=error,
        duration_ms=duration_ms,
        tenant=tenant,
        source=current_source.get(),
        client_ip=current_client_ip.get(),
        request_id=current_request_id.get(),
    )
