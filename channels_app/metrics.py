"""Inbound metrics. Counters and histograms are counted where a request is answered
(`receiving`) and where a stored event is processed (`services`), in whichever web or worker
process that is (multiprocess mode: see `config.metrics_dir`); gauges are read from the
database when /metrics is scraped."""

import functools
import time

from django.utils import timezone
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from channels_app import selectors
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


class InboundCollector:
    """The inbound log's backlog, read from the database at each scrape; every built-in
    platform is listed, at 0 when it has nothing waiting."""

    def collect(self):
        from channels_app.platforms.registry import PLATFORMS  # its platforms import services

        counts = selectors.inbound_events_backlog()
        backlog = GaugeMetricFamily(
            "inbound_backlog",
            "Stored inbound events by platform and status: received (not processed yet), "
            "failed (waiting for a retry) or dead (until reprocessed).",
            labels=["platform", "status"],
        )
        platforms = sorted(set(PLATFORMS) | {platform for platform, _ in counts})
        for platform in platforms:
            for status in selectors.BACKLOG_STATUSES:
                backlog.add_metric([platform, status], counts.get((platform, status), 0))
        yield backlog
