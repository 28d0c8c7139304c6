"""The id of the request, or the task, that the current code runs for.

Bound by the request middleware for each request and by the Celery signals for each task (the
enqueuing request's id travels in the task's headers), read wherever work leaves a trace: log
lines, the bus message's correlation header, an outbound call to a platform. One grep then
follows an inbound webhook from its POST to the last delivery it caused.
"""

from contextvars import ContextVar, Token

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(value: str | None) -> Token:
    """Set the id for the current context; returns the token to reset it with."""
    return _request_id.set(value)


def reset_request_id(token: Token) -> None:
    _request_id.reset(token)
