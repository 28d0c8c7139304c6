"""OpenTelemetry tracing: one trace from `POST /api/events` through the pump task to the
attempt, recorded in-process by the SDK's in-memory exporter."""

import os
import subprocess
import sys

import pytest
from celery import current_app
from celery.app.trace import build_tracer
from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from config import tracing
from subscriptions.delivery import dispatch
from subscriptions.services import subscription_create
from subscriptions.tasks import deliveries_pump_task
from webhooks import tracing as event_tracing
from webhooks.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    assert tracing.tracing_configure(service_name="test", span_exporter=exporter)
    yield exporter
    for instrumentor in (
        DjangoInstrumentor,
        CeleryInstrumentor,
        AioHttpClientInstrumentor,
        RequestsInstrumentor,
    ):
        instrumentor().uninstrument()
    event_tracing._state["active"] = False


def _message_for(queue: str):
    """Take the next message off `queue` in the test broker, as a worker would."""
    with current_app.connection_for_read() as connection:
        waiting = connection.SimpleQueue(queue)
        try:
            message = waiting.get(timeout=5)
            message.ack()
            return message
        finally:
            waiting.close()


def _run_as_worker(message):
    """Run the message's task in this process the way a worker does: its headers become the
    task's request, where the Celery instrumentation reads the trace context from."""
    assert message.headers["task"] == deliveries_pump_task.name
    task = current_app.tasks[deliveries_pump_task.name]
    request = {**message.headers, **message.properties}
    return build_tracer(task.name, task, app=current_app)(
        message.headers["id"], [], {}, request=request
    )


# Transactional, as in production: the publish commits in the request, so its wake is sent
# from inside the request's span (a test transaction would run it after the request).
@pytest.mark.django_db(transaction=True)
def test_an_attempt_joins_the_trace_of_the_request_that_published_its_event(
    spans, receiver, user, api, settings
):
    # A pool size of its own, so the pump's aiohttp session is created now, instrumented.
    settings.DELIVERY_CONCURRENCY = 7
    settings.DELIVERY_PUMP_IDLE_SECONDS = 0
    subscription_create(owner=user, url=receiver.url, event_types=["task.*"])
    dispatch.wake_acknowledge()  # no wake left queued by another test: this publish sends one

    response = api.post(
        "/api/events", {"event_type": "task.created", "data": {"task_id": "t"}}, format="json"
    )
    assert response.status_code == 202
    assert _run_as_worker(_message_for("deliveries")).retval == 1

    finished = spans.get_finished_spans()
    (publish,) = [s for s in finished if s.kind == SpanKind.SERVER]
    (wake,) = [s for s in finished if s.kind == SpanKind.PRODUCER]
    (pump,) = [s for s in finished if s.kind == SpanKind.CONSUMER]
    (attempt,) = [s for s in finished if s.kind == SpanKind.CLIENT]
    trace_id = publish.context.trace_id
    assert publish.parent is None
    assert (wake.context.trace_id, wake.parent.span_id) == (trace_id, publish.context.span_id)
    assert (pump.context.trace_id, pump.parent.span_id) == (trace_id, wake.context.span_id)
    # The attempt's parent is the publish, through the traceparent stored on the event.
    assert (attempt.context.trace_id, attempt.parent.span_id) == (
        trace_id,
        publish.context.span_id,
    )
    assert Event.objects.get().traceparent.startswith(
        f"00-{trace_id:032x}-{publish.context.span_id:016x}-"
    )
    (received,) = receiver.requests
    assert f"{trace_id:032x}-{attempt.context.span_id:016x}" in received.headers["traceparent"]


def test_without_an_endpoint_nothing_is_traced_and_nothing_imported(user):
    env = {k: v for k, v in os.environ.items() if k != tracing.ENDPOINT_VARIABLE}
    script = (
        "import sys\n"
        "from config.tracing import tracing_configure\n"
        "assert tracing_configure(service_name='test') is False\n"
        "assert not [m for m in sys.modules if m.startswith('opentelemetry')]\n"
    )
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=30)

    from webhooks.services import event_publish

    published = event_publish(owner=user, event_type="task.created", data={})
    assert Event.objects.get(pk=published.event.pk).traceparent is None
