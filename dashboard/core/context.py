"""Who and where a change comes from, carried through a request (or command, or background task)
so the service layer can record it without every caller passing it along.

Context variables rather than thread-locals, so a background task started from a request can be
given the same request id for its log lines and audit events.
"""

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("berth_request_id", default="-")
# ui / api / admin / cli / task
current_source: contextvars.ContextVar[str] = contextvars.ContextVar("berth_source", default="cli")
current_client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("berth_client_ip", default=None)


@contextmanager
def change_context(*, source: str, request_id: str | None = None, client_ip: str | None = None) -> Iterator[None]:
    tokens: list[contextvars.Token[Any]] = [current_source.set(source), current_client_ip.set(client_ip)]
    if request_id is not None:
        tokens.append(current_request_id.set(request_id))
    try:
        yield
    finally:
        for token in reversed(tokens):
            token.var.reset(token)
