"""Outbound metrics. Counters and histograms are counted where a pump records its results
(`delivery.recording`), in whichever worker process that is (multiprocess mode: see
`config.metrics_dir`); gauges are read from the database when /metrics is scraped."""

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from subscriptions import selectors
from subscriptions.delivery import retry
from subscriptions.models import DeliveryAttempt
from webhooks.metrics import WAIT_BUCKETS, WORK_BUCKETS

DELIVERIES = Counter(
    "outbound_deliveries_total",
    "Delivery attempts recorded, by what each decided for its delivery: succeeded, retry "
    "(scheduled), failed (for good), gone (410: the endpoint is disabled).",
    ["outcome"],
)
ATTEMPT_DURATION = Histogram(
    "outbound_attempt_duration_seconds",
    "Delivery attempts: from the request's start to its answer or error, by outcome.",
    ["outcome"],
    buckets=WORK_BUCKETS,
)
# Every outcome exposed from the start, at 0, so that rate() sees a first failure.
for _outcome in retry.Outcome:
    DELIVERIES.labels(_outcome)
    ATTEMPT_DURATION.labels(_outcome)
QUEUE_WAIT = Histogram(
    "outbound_queue_wait_seconds",
    "Deliveries: from the event's publish to the start of the first attempt.",
    buckets=WAIT_BUCKETS,
)


def attempts_observe(*, attempts: list[DeliveryAttempt], outcomes: list[str]) -> None:
    """Count recorded attempts, each with the outcome it decided."""
    for attempt, outcome in zip(attempts, outcomes, strict=True):
        DELIVERIES.labels(outcome).inc()
        ATTEMPT_DURATION.labels(outcome).observe(attempt.duration_ms / 1000)
        if attempt.number == 1:
            waited = (attempt.started_at - attempt.delivery.created_at).total_seconds()
            QUEUE_WAIT.observe(max(0.0, waited))


class OutboundCollector:
    """The delivery engine's state, read from the database at each scrape."""

    def collect(self):
        backlog = selectors.deliveries_backlog()
        pending = GaugeMetricFamily(
            "outbound_backlog",
            "Pending deliveries: due now (waiting for a pump) or later (retries scheduled).",
            labels=["due"],
        )
        pending.add_metric(["now"], backlog.due_now)
        pending.add_metric(["later"], backlog.due_later)
        yield pending
        yield GaugeMetricFamily(
            "outbound_in_flight",
            "Deliveries being sent now (claimed by a pump, claim not lapsed).",
            value=backlog.in_flight,
        )
        yield GaugeMetricFamily(
            "outbound_endpoints_circuit_open",
            "Active endpoints paused by their circuit breaker (too many failures in a row).",
            value=backlog.circuit_open,
        )
        yield GaugeMetricFamily(
            "outbound_endpoints_disabled",
            "Endpoints the engine disabled (a 410 Gone, or failing for days).",
            value=backlog.disabled,
        )
