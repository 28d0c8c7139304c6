"""Request ids, JSON logs and Prometheus request metrics.

Every request gets an id (the caller's `X-Request-ID` when it is sane, else a new one), bound
for the request's code (`webhooks.request_ids`). It is returned in the response, stamped on
every log line the request writes, and carried in the headers of the Celery tasks the request
enqueues (see `config.celery`), so one grep follows an inbound webhook from its POST to the
last delivery it caused.
"""

import logging
import os
import re
import time
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.utils.module_loading import import_string
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from webhooks.redaction import redacted
from webhooks.request_ids import bind_request_id, current_request_id, reset_request_id

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("http.access")

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests by view, method and status.", ["view", "method", "status"]
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by view.",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(candidate: str | None) -> str:
    """The caller's id when it is a safe token (it lands in logs and headers), else a new one."""
    if candidate and _REQUEST_ID_PATTERN.match(candidate):
        return candidate
    return new_request_id()


class RequestObservabilityMiddleware:
    """Binds the request id and records one counter, one latency sample and one access line.

    Async-capable, so the ASGI process (live streams) serves its async views without a thread.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        started, token = self._begin(request)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        return self._finish(request, response, started)

    async def _acall(self, request):
        started, token = self._begin(request)
        try:
            response = await self.get_response(request)
        finally:
            reset_request_id(token)
        return self._finish(request, response, started)

    @staticmethod
    def _begin(request):
        request.request_id = accept_request_id(request.headers.get(REQUEST_ID_HEADER))
        return time.perf_counter(), bind_request_id(request.request_id)

    @staticmethod
    def _finish(request, response, started: float):
        response[REQUEST_ID_HEADER] = request.request_id
        match = request.resolver_match
        view = match.view_name if match else "<unresolved>"
        HTTP_REQUESTS.labels(view, request.method, response.status_code).inc()
        elapsed = time.perf_counter() - started
        HTTP_LATENCY.labels(view, request.method).observe(elapsed)
        access_logger.info(
            "http.request",
            extra={
                "request_id": request.request_id,
                "method": request.method,
                "path": request.path,
                "view": view,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 2),
            },
        )
        return response


def metrics_text() -> bytes:
    """Prometheus exposition: what every process counted (merged from each web and worker
    process's file in multiprocess mode), then the gauges the apps read from the database now
    (`METRICS_COLLECTORS`: dotted paths of collector classes)."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(DEFAULT_REGISTRY)
    for path in settings.METRICS_COLLECTORS:
        registry.register(_Guarded(path))
    return generate_latest(registry)


class _Guarded:
    """A collector that reads the database: when it fails (the database is down), its gauges
    are left out of this scrape and the counters are still served."""

    def __init__(self, path: str):
        self.path = path

    def collect(self):
        try:
            return list(import_string(self.path)().collect())
        except Exception:
            logger.exception("metrics.collector_failed", extra={"collector": self.path})
            return []


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id()
        return True


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line: timestamp, level, logger, message, request_id, extras."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "{asctime}{levelname}{name}{message}{request_id}")
        kwargs.setdefault("style", "{")
        kwargs.setdefault(
            "rename_fields", {"asctime": "timestamp", "levelname": "level", "name": "logger"}
        )
        kwargs.setdefault("datefmt", "%Y-%m-%dT%H:%M:%S%z")
        super().__init__(*args, **kwargs)

    def process_log_record(self, log_data: dict) -> dict:
        # Whatever a caller passes in `extra`: a secret never reaches a log line.
        return redacted(log_data)
