"""Reads the portal's pages need beyond subscriptions.selectors: a page of endpoints' health at
once, and the delivery log as keyset pages. Each runs on the deliveries' (subscription,
created_at) index, so a page costs the same at 1M deliveries as at 100."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from subscriptions import filters, operational
from subscriptions.delivery import wire
from subscriptions.models import Delivery, Subscription
from subscriptions.selectors import Status, deliveries_for
from webhooks import catalog
from webhooks.models import Event

HEALTH_WINDOW = timedelta(hours=24)
DELIVERY_PAGE_SIZE = 50


@dataclass(frozen=True)
class EndpointHealth:
    subscription: Subscription
    succeeded: int
    failed: int
    last_status: str | None
    last_status_code: int | None

    @property
    def success_rate(self) -> float | None:
        finished = self.succeeded + self.failed
        return self.succeeded / finished if finished else None

    @property
    def circuit(self) -> str:
        """`disabled`, `open` (paused), `failing` (failures, circuit still closed) or `ok`."""
        subscription = self.subscription
        if not subscription.is_active:
            return "disabled"
        if subscription.paused_until and subscription.paused_until > timezone.now():
            return "open"
        return "failing" if subscription.failing_since else "ok"


def endpoints_health(subscriptions: QuerySet[Subscription]) -> list[EndpointHealth]:
    """Each endpoint with its last 24 h outcomes and its latest delivery's status: two
    statements for the whole list."""
    latest = Delivery.objects.filter(subscription=OuterRef("pk")).order_by("-created_at", "-id")
    rows = list(
        subscriptions.annotate(
            latest_status=Subquery(latest.values("status")[:1]),
            latest_status_code=Subquery(latest.values("last_status_code")[:1]),
        ).order_by("-id")
    )
    counts = {
        row["subscription_id"]: row
        for row in Delivery.objects.filter(
            subscription__in=[row.pk for row in rows],
            created_at__gte=timezone.now() - HEALTH_WINDOW,
        )
        .values("subscription_id")
        .annotate(
            succeeded=Count("pk", filter=Q(status=Status.SUCCEEDED)),
            failed=Count("pk", filter=Q(status=Status.FAILED)),
        )
    }
    return [
        EndpointHealth(
            subscription=row,
            succeeded=counts.get(row.pk, {}).get("succeeded", 0),
            failed=counts.get(row.pk, {}).get("failed", 0),
            last_status=row.latest_status,
            last_status_code=row.latest_status_code,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[Delivery]
    next_before: int | None  # the id to pass as `before` for the next (older) page


def delivery_page(
    *,
    subscription: Subscription,
    status: str = "",
    event_id: str = "",
    before: Delivery | None = None,
    size: int = DELIVERY_PAGE_SIZE,
) -> DeliveryPage:
    """One page of the endpoint's deliveries, newest first, after the keyset `before` (the
    last row of the previous page): no OFFSET, so page 1,000 costs what page 1 does."""
    deliveries = deliveries_for(subscription).order_by("-created_at", "-id")
    if status:
        deliveries = deliveries.filter(status=status)
    if event_id:
        deliveries = deliveries.filter(event__public_id=event_id)
    if before is not None:
        deliveries = deliveries.filter(
            Q(created_at__lt=before.created_at) | Q(created_at=before.created_at, id__lt=before.pk)
        )
    rows = list(deliveries[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return DeliveryPage(deliveries=rows, next_before=rows[-1].pk if more else None)


def example_payloads(patterns: list[str]) -> dict[str, dict]:
    """What a receiver would get for each catalog type `patterns` select, from the type's
    example: what a filter is checked against before any event exists."""
    created_at = timezone.now()
    return {
        event_type.name: wire.payload(
            Event(
                public_id="evt_example",
                event_type=event_type.name,
                created_at=created_at,
                data=event_type.example,
            )
        )
        for event_type in catalog.event_types()
        if catalog.matches_any(patterns, event_type.name)
    }


@dataclass(frozen=True)
class FilterCheck:
    problem: str | None
    matches: dict[str, bool]  # catalog type → whether its example payload passes


def filter_check(spec, patterns: list[str]) -> FilterCheck:
    """Whether `spec` is a filter, and which examples of the types `patterns` select it lets
    through: a filter that passes none of them is likely a typo."""
    if spec in (None, {}):
        return FilterCheck(problem=None, matches={})
    problem = filters.filter_problem(spec)
    if problem:
        return FilterCheck(problem=problem, matches={})
    return FilterCheck(
        problem=None,
        matches={
            name: filters.matches(spec, payload)
            for name, payload in example_payloads(patterns).items()
        },
    )


CHART_HOURS = 24
CHART_OUTCOMES = ("succeeded", "failed", "pending")  # pending: not finished yet
OPERATIONAL_EVENTS_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class HourBar:
    hour: object  # the hour's start, a datetime
    counts: dict[str, int]
    heights: dict[str, int]  # percent of the busiest hour, per outcome

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def deliveries_by_hour(*, subscription: Subscription) -> list[HourBar]:
    """The endpoint's deliveries of the last 24 hours by the hour they were created and by
    outcome: one GROUP BY on the (subscription, created_at) index."""
    from django.db.models.functions import TruncHour

    now = timezone.now()
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=CHART_HOURS - 1)
    rows = (
        deliveries_for(subscription)
        .filter(created_at__gte=first)
        .annotate(hour=TruncHour("created_at"))
        .values("hour", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict = {}
    for row in rows:
        if row["status"] == Status.CANCELLED:
            continue
        finished = row["status"] in (Status.SUCCEEDED, Status.FAILED)
        outcome = row["status"] if finished else "pending"
        bucket = counts.setdefault(row["hour"], dict.fromkeys(CHART_OUTCOMES, 0))
        bucket[outcome] += row["n"]
    hours = [first + timedelta(hours=n) for n in range(CHART_HOURS)]
    busiest = max((sum(c.values()) for c in counts.values()), default=0) or 1
    return [
        HourBar(
            hour=hour,
            counts=(hour_counts := counts.get(hour, dict.fromkeys(CHART_OUTCOMES, 0))),
            heights={k: round(100 * v / busiest) for k, v in hour_counts.items()},
        )
        for hour in hours
    ]


def operational_events(*, subscription: Subscription, limit: int = 5) -> list[Event]:
    """The latest operational events about this endpoint (its circuit opened, it recovered,
    was disabled, a delivery ran out of retries), from the last week."""
    return list(
        Event.objects.filter(
            owner_id=subscription.owner_id,
            created_at__gte=timezone.now() - OPERATIONAL_EVENTS_WINDOW,
            source=operational.SOURCE,
            event_type__in=catalog.OPERATIONAL_EVENT_TYPES,
            data__endpoint_id=subscription.pk,
        ).order_by("-created_at")[:limit]
    )
