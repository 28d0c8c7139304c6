"""Reads for outbound: the API, the admin dashboard and /health share these."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from subscriptions.models import Delivery, DeliveryAttempt, Subscription
from webhooks.selectors import count_per_hour

Status = Delivery.Status


def subscriptions_for(owner) -> QuerySet[Subscription]:
    return Subscription.objects.filter(owner=owner, deleted_at__isnull=True)


def deliveries_for(subscription: Subscription) -> QuerySet[Delivery]:
    return Delivery.objects.filter(subscription=subscription).select_related("event")


def deliveries_due_count() -> int:
    return Delivery.objects.filter(
        status=Status.PENDING, next_attempt_at__lte=timezone.now()
    ).count()


def deliveries_scheduled_count() -> int:
    return Delivery.objects.filter(
        status=Status.PENDING, next_attempt_at__gt=timezone.now()
    ).count()


@dataclass(frozen=True)
class Backlog:
    due_now: int
    due_later: int
    in_flight: int
    circuit_open: int
    disabled: int


def deliveries_backlog() -> Backlog:
    """What the delivery engine holds right now, for /metrics: pending deliveries due now and
    due later, requests in flight (under a live claim), endpoints whose circuit is open and
    endpoints the engine disabled. Three statements, each on a partial index or the (small)
    endpoint table."""
    now = timezone.now()
    pending = Delivery.objects.filter(status=Status.PENDING).aggregate(
        due_now=Count("pk", filter=Q(next_attempt_at__lte=now)),
        due_later=Count("pk", filter=Q(next_attempt_at__gt=now)),
    )
    in_flight = Delivery.objects.filter(status=Status.DELIVERING, claimed_until__gt=now).count()
    endpoints = Subscription.objects.filter(deleted_at__isnull=True).aggregate(
        circuit_open=Count("pk", filter=Q(is_active=True, paused_until__gt=now)),
        disabled=Count("pk", filter=Q(is_active=False) & ~Q(disabled_reason="")),
    )
    return Backlog(in_flight=in_flight, **pending, **endpoints)


def _percentiles(durations: QuerySet, fractions: tuple[float, ...]) -> list[int | None]:
    if connection.vendor == "postgresql":
        columns = ", ".join(
            f"percentile_disc({fraction}) WITHIN GROUP (ORDER BY duration_ms)"
            for fraction in fractions
        )
        sql, params = durations.values("duration_ms").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {columns} FROM ({sql}) AS attempts", params)  # noqa: S608
            return list(cursor.fetchone())
    # SQLite (the embedded default) has no percentile aggregate.
    values = sorted(durations.values_list("duration_ms", flat=True))
    if not values:
        return [None for _ in fractions]
    return [values[min(len(values) - 1, int(fraction * len(values)))] for fraction in fractions]


@dataclass(frozen=True)
class DeliveryStats:
    since: datetime
    total: int
    succeeded: int
    failed: int
    pending: int
    pending_retries: int
    success_rate: float | None
    latency_p50_ms: int | None
    latency_p95_ms: int | None


def delivery_stats(*, window: timedelta, subscription: Subscription | None = None) -> DeliveryStats:
    """Deliveries created in the window, by outcome, and attempt latency percentiles.

    One subscription's figures for the stats API, or every subscription's for the dashboard.
    """
    since = timezone.now() - window
    deliveries = Delivery.objects.filter(created_at__gte=since)
    attempts = DeliveryAttempt.objects.filter(started_at__gte=since)
    if subscription is not None:
        deliveries = deliveries.filter(subscription=subscription)
        attempts = attempts.filter(delivery__subscription=subscription)
    counts = deliveries.aggregate(
        total=Count("pk"),
        succeeded=Count("pk", filter=Q(status=Status.SUCCEEDED)),
        failed=Count("pk", filter=Q(status=Status.FAILED)),
        pending=Count("pk", filter=Q(status__in=[Status.PENDING, Status.DELIVERING])),
        pending_retries=Count("pk", filter=Q(status=Status.PENDING, attempt_count__gt=0)),
    )
    finished = counts["succeeded"] + counts["failed"]
    p50, p95 = _percentiles(attempts, (0.5, 0.95))
    return DeliveryStats(
        since=since,
        success_rate=round(counts["succeeded"] / finished, 4) if finished else None,
        latency_p50_ms=p50,
        latency_p95_ms=p95,
        **counts,
    )


@dataclass(frozen=True)
class FailingSubscription:
    subscription_id: int
    url: str
    failures: int


def subscriptions_top_failing(*, window: timedelta, limit: int = 10) -> list[FailingSubscription]:
    since = timezone.now() - window
    rows = (
        Delivery.objects.filter(status=Status.FAILED, created_at__gte=since)
        .values("subscription_id", "subscription__url")
        .annotate(failures=Count("pk"))
        .order_by("-failures")[:limit]
    )
    return [
        FailingSubscription(row["subscription_id"], row["subscription__url"], row["failures"])
        for row in rows
    ]


def deliveries_per_hour(*, window: timedelta) -> dict[datetime, int]:
    return count_per_hour(Delivery.objects.all(), field="created_at", window=window)
