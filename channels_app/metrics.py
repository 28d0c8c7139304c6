"""Inbound metrics. Counters and histograms are counted where a request is answered
(`receiving`) and where a stored event is processed (`processing`), in whichever web or worker
process that is (multiprocess mode: see `config.metrics_dir`); the backlog gauge is read
from the database when /metrics is scraped (`collectors`)."""

import functools
import time

from django.utils import timezone
from prometheus_client import Counter, Histogram

from channels_app.models import InboundEvent
from webhooks.metrics import WAIT_BUCKETS, WORK_BUCKETS

Status = InboundEvent.Status

RECEIVED = Counter(
    "inbound_received_total",
    "Inbound requests answered by a receiver, by platform and the status code answered.",
    ["platform", "status"],
)
REJECTED = Counter(
    "inbound_rejected_total", "Inbound requests refused, by platform and reason.",
    ["platform", "reason"],
)  # fmt: skip
PROCESSED = Counter(
    "inbound_processed_total",
    "Stored inbound events run through their platform's handler, by platform and outcome: "
    "processed, ignored (nothing to do for it), failed (a retry is scheduled), dead (given up, "
    "left for reprocessing).",
    ["platform", "outcome"],
)
PROCESSING_DURATION = Histogram(
    "inbound_processing_duration_seconds",
    "Inbound events: how long their handler's transaction took, by platform and outcome.",
    ["platform", "outcome"],
    buckets=WORK_BUCKETS,
)
QUEUE_WAIT = Histogram(
    "inbound_queue_wait_seconds",
    "Inbound events: from receipt (stored, answered 200) to the start of the first processing.",
    ["platform"],
    buckets=WAIT_BUCKETS,
)


def counted(receive):
    """Count each answer of the receiving pipeline `receive(request, platform)`."""

    @functools.wraps(receive)
    def receive_counted(request, platform):
        response = receive(request, platform)
        RECEIVED.labels(platform.name, str(response.status_code)).inc()
        return response

    return receive_counted


def processing_observe(*, event: InboundEvent, outcome: str, started: float) -> None:
    """One try at processing `event`, begun at `started` (time.monotonic()); the first try of
    an event also gives how long it waited since it was received."""
    took = time.monotonic() - started
    PROCESSED.labels(event.platform, outcome).inc()
    PROCESSING_DURATION.labels(event.platform, outcome).observe(took)
    if event.attempts == 0:
        waited = (timezone.now() - event.received_at).total_seconds() - took
        QUEUE_WAIT.labels(event.platform).observe(max(0.0, waited))
