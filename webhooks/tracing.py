"""The trace an event carries from its publish to each delivery attempt.

The tracing instrumentation (Django, Celery, aiohttp and requests) follows a request into the
tasks it enqueues and the HTTP calls they make. The one hop it cannot see is the database: a
pump claims rows that many publishes wrote, so the publishing context is stored on the event
as its W3C `traceparent`, and each attempt's request is sent inside it (tracing_within).

Tracing is off until the process's start-up turns it on (tracing_activate), and off, this
module imports nothing from OpenTelemetry: the event gets no traceparent, and a delivery whose
event has none is sent as before.
"""

TRACEPARENT_MAX_LENGTH = 55  # version 00: 2 + 1 + 32 + 1 + 16 + 1 + 2

_state = {"active": False}


def tracing_active() -> bool:
    """Whether this process records spans."""
    return _state["active"]


def tracing_activate() -> None:
    """Record that this process now records spans (its tracer provider is installed), so
    what it publishes carries the trace."""
    _state["active"] = True


def tracing_traceparent() -> str | None:
    """The W3C traceparent of the current span, to store with what it publishes; None when
    tracing is off or nothing is being traced."""
    if not _state["active"]:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    traceparent = carrier.get("traceparent")
    if traceparent is None or len(traceparent) > TRACEPARENT_MAX_LENGTH:
        return None
    return traceparent


def tracing_within(traceparent: str, call):
    """`call`, wrapped to run as a child of the span `traceparent` names (its spans, such as
    an instrumented HTTP request's, then join that trace)."""
    from opentelemetry import context
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    parent = TraceContextTextMapPropagator().extract({"traceparent": traceparent})

    def within(*args, **kwargs):
        token = context.attach(parent)
        try:
            return call(*args, **kwargs)
        finally:
            context.detach(token)

    return within
