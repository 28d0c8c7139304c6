"""Optional OpenTelemetry tracing: on only when OTEL_EXPORTER_OTLP_ENDPOINT is set.

One trace runs from an inbound request or `POST /api/events` through the Celery task to each
delivery attempt, all of it from the instrumentation packages (Django, Celery, aiohttp and
requests), plus the traceparent each event carries across the database (webhooks.tracing).

Off, this module imports nothing from OpenTelemetry, and the hot paths pay one check. The
exporter and SDK read the standard OTEL_* variables themselves (OTEL_SERVICE_NAME,
OTEL_TRACES_SAMPLER, …); OTEL_EXPORTER_OTLP_ENDPOINT is the collector's base URL
(http://collector:4318).
"""

import os

from webhooks.tracing import tracing_activate, tracing_active

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
# Probes and scrapes every few seconds are not worth a trace each; the variable overrides this.
DEFAULT_EXCLUDED_URLS = "/health,/metrics"


def tracing_configure(*, service_name: str, span_exporter=None) -> bool:
    """Export this process's spans over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set, and
    instrument Django, Celery, aiohttp and requests; returns whether tracing is on.

    Call it before Django builds its handler (the Django instrumentation adds a middleware),
    and in each prefork child (a forked process needs its own exporter thread). Tests pass a
    `span_exporter` (the SDK's InMemorySpanExporter), which is exported to synchronously.
    """
    if span_exporter is None and not os.environ.get(ENDPOINT_VARIABLE):
        return False
    if tracing_active():
        return True
    from opentelemetry import trace
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME") or service_name
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    if span_exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    trace.set_tracer_provider(provider)
    excluded = (
        os.environ.get("OTEL_PYTHON_DJANGO_EXCLUDED_URLS")
        or os.environ.get("OTEL_PYTHON_EXCLUDED_URLS")
        or DEFAULT_EXCLUDED_URLS
    )
    DjangoInstrumentor().instrument(tracer_provider=provider, excluded_urls=excluded)
    for instrumentor in (CeleryInstrumentor, AioHttpClientInstrumentor, RequestsInstrumentor):
        instrumentor().instrument(tracer_provider=provider)
    tracing_activate()
    return True
