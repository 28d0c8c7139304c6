"""Claiming due deliveries: the only way a delivery gets sent, and where every cap holds.

A delivery is due when it is `pending` and its `next_attempt_at` has passed. A claim moves due
rows to `delivering` with a deadline (`claimed_until`), in one short transaction, and a pump
sends each claimed row at once. Per-endpoint caps are counted in the database, so they hold
across every worker process on every machine:

- `max_in_flight`: an endpoint never has more claimed rows (under a live claim) than this.
  `1` is ordered delivery: only the endpoint's oldest unfinished delivery may go, so a retry
  holds back every later event.
- `rate_limit_per_second`: a request may start only once `throttled_until` has passed, and
  each claimed request pushes it on by 1/rate (a GCRA with a small burst allowance).
- an open circuit (`paused_until`) claims nothing; a half-open one (after the cool-down, still
  over the failure threshold) claims a single probe.

Claimers lock the endpoint rows they claim for (`FOR NO KEY UPDATE SKIP LOCKED`, so a
publisher inserting deliveries is not blocked and two claimers never count the same endpoint
at once). On SQLite, which has no row locks, the IMMEDIATE transaction serialises claimers
and the status condition on the UPDATE keeps them apart.
"""

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Window
from django.db.models.functions import RowNumber

from subscriptions.models import Delivery, Subscription

Status = Delivery.Status
# A rate-limited endpoint may start this many seconds' worth of requests at once after a pause.
RATE_BURST_SECONDS = 0.1


def claim_deadline(subscription: Subscription, now: datetime) -> datetime:
    """When the sweep may hand a claimed delivery to another worker: a send is over by then."""
    seconds = subscription.timeout_seconds + settings.DELIVERY_CLAIM_MARGIN_SECONDS
    return now + timedelta(seconds=seconds)


def _endpoints_to_serve(limit: int, now: datetime) -> list[Subscription]:
    """Active endpoints with due work, oldest due first, each locked, with its in-flight count.

    Each endpoint's oldest due time is one probe of the `delivery_due` index, so finding work
    costs a probe per active endpoint whatever the backlog: an endpoint that has fallen a
    million rows behind makes no claim slower.

    The count is a statement of its own, made once the rows are locked: under READ COMMITTED
    a subquery of the locking SELECT would read the snapshot taken before it waited, missing
    what the claimer it skipped past had just committed (two claimers then filled one
    endpoint twice over).
    """
    first_due = (
        Delivery.objects.filter(
            subscription=OuterRef("pk"), status=Status.PENDING, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values("next_attempt_at")[:1]
    )
    endpoints = list(
        Subscription.objects.select_for_update(no_key=True, skip_locked=True)
        .filter(is_active=True, deleted_at__isnull=True)
        .filter(Q(paused_until__isnull=True) | Q(paused_until__lte=now))
        .annotate(first_due=Subquery(first_due))
        .filter(first_due__isnull=False)
        .order_by("first_due")[:limit]
    )
    in_flight = dict(
        Delivery.objects.filter(
            subscription__in=endpoints, status=Status.DELIVERING, claimed_until__gt=now
        )
        .values("subscription_id")
        .annotate(n=Count("pk"))
        .values_list("subscription_id", "n")
    )
    for endpoint in endpoints:
        endpoint.in_flight = in_flight.get(endpoint.pk, 0)
    return endpoints


def _room(subscription: Subscription, now: datetime) -> int:
    half_open = subscription.consecutive_failures >= settings.DELIVERY_BREAKER_THRESHOLD
    room = (1 if half_open else subscription.max_in_flight) - subscription.in_flight
    rate = subscription.rate_limit_per_second
    if rate and room > 0:
        started_budget = now - _throttle_start(subscription, now)
        room = min(room, int(started_budget.total_seconds() * rate + 1e-9))
    return max(room, 0)


def _throttle_start(subscription: Subscription, now: datetime) -> datetime:
    """The rate limiter's clock: requests may start for the time between it and now. An
    endpoint idle for long gets at most RATE_BURST_SECONDS' worth (and at least one)."""
    burst = max(RATE_BURST_SECONDS, 1 / subscription.rate_limit_per_second)
    earliest = now - timedelta(seconds=burst)
    return max(subscription.throttled_until or earliest, earliest)


def _ordered_heads(subscriptions: list[Subscription], now: datetime) -> dict[int, list[int]]:
    """For each ordered endpoint, its oldest unfinished delivery if that one is due."""
    heads = {}
    for subscription in subscriptions:
        head = (
            Delivery.objects.filter(
                subscription=subscription, status__in=[Status.PENDING, Status.DELIVERING]
            )
            .order_by("created_at", "pk")
            .values("pk", "status", "next_attempt_at")
            .first()
        )
        if head and head["status"] == Status.PENDING and head["next_attempt_at"] <= now:
            heads[subscription.pk] = [head["pk"]]
    return heads


# The first `room` due rows of each endpoint, read straight off the `delivery_due` index: one
# index range per endpoint, however long its backlog.
_DUE_PER_ENDPOINT_SQL = """
    SELECT due.id, endpoint.id
    FROM unnest(%s::bigint[], %s::integer[]) AS endpoint (id, room)
    CROSS JOIN LATERAL (
        SELECT d.id, d.next_attempt_at FROM {table} d
        WHERE d.subscription_id = endpoint.id AND d.status = %s AND d.next_attempt_at <= %s
        ORDER BY d.next_attempt_at, d.id
        LIMIT endpoint.room
    ) AS due
    ORDER BY due.next_attempt_at, due.id
"""


def _due_in_order(rooms: dict[int, int], now: datetime) -> dict[int, list[int]]:
    """Up to `rooms[s]` due deliveries of each endpoint `s`, oldest due first.

    PostgreSQL reads each endpoint's few rows with a LATERAL join; SQLite, which has none,
    ranks every due row of these endpoints (fine at the embedded default's scale).
    """
    if not rooms:
        return {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _DUE_PER_ENDPOINT_SQL.format(table=Delivery._meta.db_table),
                [list(rooms), list(rooms.values()), Status.PENDING, now],
            )
            rows = cursor.fetchall()
    else:
        rows = [
            (pk, subscription_id)
            for pk, subscription_id, rank in Delivery.objects.filter(
                subscription_id__in=rooms, status=Status.PENDING, next_attempt_at__lte=now
            )
            .annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=[F("subscription_id")],
                    order_by=[F("next_attempt_at").asc(), F("pk").asc()],
                )
            )
            .filter(rank__lte=max(rooms.values()))
            .order_by("next_attempt_at", "pk")
            .values_list("pk", "subscription_id", "rank")
            if rank <= rooms[subscription_id]
        ]
    due = defaultdict(list)
    for pk, subscription_id in rows:
        due[subscription_id].append(pk)
    return due


def _interleaved(due: dict[int, list[int]], capacity: int) -> list[tuple[int, int]]:
    """(subscription, delivery) pairs taking each endpoint's first row, then each one's second…
    so a process short of room shares it among endpoints instead of filling it with one."""
    picked = []
    depth = 0
    while len(picked) < capacity and any(len(rows) > depth for rows in due.values()):
        for subscription_id, rows in due.items():
            if len(rows) > depth and len(picked) < capacity:
                picked.append((subscription_id, rows[depth]))
        depth += 1
    return picked


def _commit_without_waiting_for_disk() -> None:
    """A claim need not wait for its commit to reach the disk (PostgreSQL's asynchronous
    commit): should the server crash before it does, the rows are pending again and are sent
    again, which at-least-once delivery allows, and any later synchronous commit (a results
    write) flushes it first. It saves a disk flush on every refill."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def deliveries_claim(*, capacity: int, now: datetime) -> list[Delivery]:
    """Claim up to `capacity` due deliveries across endpoints, within every endpoint's caps.

    Returns them with their event and subscription loaded, ready to send.
    """
    if capacity <= 0:
        return []
    with transaction.atomic():
        _commit_without_waiting_for_disk()
        endpoints = {s.pk: s for s in _endpoints_to_serve(capacity, now)}
        rooms = {pk: room for pk, s in endpoints.items() if (room := _room(s, now)) > 0}
        ordered = {pk for pk in rooms if endpoints[pk].max_in_flight == 1}
        due = _ordered_heads([endpoints[pk] for pk in ordered], now)
        due.update(_due_in_order({pk: r for pk, r in rooms.items() if pk not in ordered}, now))
        picked = _interleaved(due, capacity)
        if not picked:
            return []
        by_deadline = defaultdict(list)
        for subscription_id, pk in picked:
            by_deadline[claim_deadline(endpoints[subscription_id], now)].append(pk)
        claimed_ids = set()
        for deadline, ids in by_deadline.items():
            updated = Delivery.objects.filter(pk__in=ids, status=Status.PENDING).update(
                status=Status.DELIVERING, claimed_until=deadline, updated_at=now
            )
            if updated == len(ids):
                claimed_ids.update(ids)
                continue
            # Keep only what is ours: on SQLite another claimer may have won some in between.
            claimed_ids.update(
                Delivery.objects.filter(
                    pk__in=ids, status=Status.DELIVERING, claimed_until=deadline
                ).values_list("pk", flat=True)
            )
        _throttle(endpoints, picked, claimed_ids, now)
    claimed = list(Delivery.objects.select_related("event").filter(pk__in=claimed_ids))
    for delivery in claimed:
        delivery.subscription = endpoints[delivery.subscription_id]
    return sorted(claimed, key=lambda d: (d.next_attempt_at, d.pk))


def _throttle(endpoints, picked, claimed_ids: set[int], now: datetime) -> None:
    """Push each rate-limited endpoint's next start time on by 1/rate per claimed request."""
    claimed_per_endpoint = defaultdict(int)
    for subscription_id, pk in picked:
        if pk in claimed_ids:
            claimed_per_endpoint[subscription_id] += 1
    for subscription_id, count in claimed_per_endpoint.items():
        subscription = endpoints[subscription_id]
        rate = subscription.rate_limit_per_second
        if rate:
            Subscription.objects.filter(pk=subscription_id).update(
                throttled_until=_throttle_start(subscription, now) + timedelta(seconds=count / rate)
            )
