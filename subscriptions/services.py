"""Writes for outbound subscriptions: the API and the admin call these."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from subscriptions import filters, operational
from subscriptions.delivery import recording, retry, sending, wire
from subscriptions.delivery.dispatch import deliveries_wake
from subscriptions.models import Delivery, Subscription
from webhooks import catalog
from webhooks.http.guard import url_problem
from webhooks.ids import new_id
from webhooks.models import Event
from webhooks.signing import secret_generate

logger = logging.getLogger(__name__)

Status = Delivery.Status
SECRET_ROTATION_GRACE = timedelta(hours=24)


def subscription_url_problem(url: str) -> str | None:
    return url_problem(url, allow_private=settings.WEBHOOKS_ALLOW_PRIVATE_URLS)


def subscription_create(
    *,
    owner,
    url: str,
    event_types: list[str],
    description: str = "",
    **options,
) -> Subscription:
    """Create a subscription with a fresh `whsec_` secret (readable once, from the result).

    `options` are the endpoint's settings (retry_count, timeout_seconds, max_in_flight,
    rate_limit_per_second); each left out keeps its model default.
    """
    subscription = Subscription(
        owner=owner,
        url=url,
        event_types=event_types,
        description=description,
        secret=secret_generate(),
        **{name: value for name, value in options.items() if value is not None},
    )
    _filter_compile(subscription)
    subscription.save()
    logger.info("subscription.created", extra={"subscription_id": subscription.pk})
    return subscription


def subscription_update(*, subscription: Subscription, **changes) -> Subscription:
    """Apply validated field changes; re-enabling clears the disable reason and the breaker."""
    for field, value in changes.items():
        setattr(subscription, field, value)
    _filter_compile(subscription)
    if changes.get("is_active"):
        subscription.disabled_reason = ""
        subscription.consecutive_failures = 0
        subscription.failing_since = None
        subscription.paused_until = None
    subscription.save()
    return subscription


def _filter_compile(subscription: Subscription) -> None:
    """Keep the predicate fan-out runs in step with the filter the user set."""
    spec = subscription.filter
    subscription.filter_path = filters.to_jsonpath(spec) if spec else ""


def subscription_delete(*, subscription: Subscription) -> None:
    """Hide the subscription and cancel what it still owed; its history stays until retention."""
    now = timezone.now()
    with transaction.atomic():
        Subscription.objects.filter(pk=subscription.pk).update(
            deleted_at=now, is_active=False, updated_at=now
        )
        # In-flight rows too: the worker sending them writes back only rows still under
        # its claim, so they stay cancelled.
        Delivery.objects.filter(
            subscription=subscription, status__in=[Status.PENDING, Status.DELIVERING]
        ).update(
            status=Status.CANCELLED,
            next_attempt_at=None,
            claimed_until=None,
            completed_at=now,
            updated_at=now,
        )


def subscription_rotate_secret(*, subscription: Subscription) -> Subscription:
    """New secret now; the old one keeps signing alongside it for 24 hours."""
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = timezone.now() + SECRET_ROTATION_GRACE
    subscription.secret = secret_generate()
    subscription.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
    )
    return subscription


@dataclass(frozen=True)
class TestSendResult:
    success: bool
    status_code: int | None
    response_time_ms: int
    error: str | None
    delivery: Delivery


def subscription_test_send(*, subscription: Subscription) -> TestSendResult:
    """Send a signed `webhook.test` event now, recorded as a delivery with one attempt."""
    now = timezone.now()
    with transaction.atomic():
        event = Event.objects.create(
            public_id=new_id("evt"),
            owner_id=subscription.owner_id,
            event_type=catalog.TEST_EVENT_TYPE,
            source="test",
            data={"message": "This is a test event.", "subscription_id": subscription.pk},
            created_at=now,
        )
        delivery = Delivery.objects.create(
            event=event,
            subscription=subscription,
            status=Status.DELIVERING,
            claimed_until=now + timedelta(seconds=subscription.timeout_seconds + 30),
        )
    outgoing, result = sending.delivery_send_now(delivery=delivery, subscription=subscription)
    # A test never retries: its one attempt decides.
    recording.record_final_attempt(
        sending=outgoing,
        result=result,
        outcome=retry.Outcome.SUCCEEDED if result.succeeded else retry.Outcome.FAILED,
    )
    return TestSendResult(
        success=result.succeeded,
        status_code=result.status_code,
        response_time_ms=result.duration_ms,
        error=None if result.succeeded else (result.error_message or f"HTTP {result.status_code}"),
        delivery=delivery,
    )


def delivery_retry(*, delivery: Delivery) -> Delivery:
    """Make a delivery due now, including a failed or cancelled one (one more attempt)."""
    if delivery.status == Status.DELIVERING:
        return delivery
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).exclude(status=Status.DELIVERING).update(
        status=Status.PENDING, next_attempt_at=now, completed_at=None, updated_at=now
    )
    delivery.refresh_from_db()
    transaction.on_commit(lambda: deliveries_wake(force=True), robust=True)
    return delivery


def delivery_cancel(*, delivery: Delivery) -> bool:
    """Cancel a delivery that has not finished; returns whether it was cancelled."""
    now = timezone.now()
    return bool(
        Delivery.objects.filter(pk=delivery.pk, status=Status.PENDING).update(
            status=Status.CANCELLED, next_attempt_at=None, completed_at=now, updated_at=now
        )
    )


def subscription_recover(
    *, subscription: Subscription, since: datetime, until: datetime | None = None
) -> int:
    """Re-queue every failed delivery of the subscription created in [since, until).

    A second call finds them pending and re-queues none.
    """
    now = timezone.now()
    failed = Delivery.objects.filter(
        subscription=subscription, status=Status.FAILED, created_at__gte=since
    )
    if until is not None:
        failed = failed.filter(created_at__lt=until)
    count = failed.update(
        status=Status.PENDING, next_attempt_at=now, completed_at=None, updated_at=now
    )
    if count:
        transaction.on_commit(lambda: deliveries_wake(force=True), robust=True)
    return count


# The longest window replay-missing accepts: the scan of the owner's events stays bounded.
REPLAY_WINDOW_MAX = timedelta(days=30)
REPLAY_BATCH_SIZE = 5000


def subscription_wants(*, subscription: Subscription, event: Event) -> bool:
    """Whether the fan-out gives `event` to `subscription`, active or not: one of its event
    types, one of its channels when it lists any, its payload filter when it has one, and
    not an operational event about the subscription itself.

    The one Python definition of a match, used by the fan-out and replay on SQLite; the
    fan-out's statement (subscriptions.fanout) and `_replay_batch_statement` say the same in
    SQL.
    """
    return (
        operational.subject_subscription_id(event) != subscription.pk
        and catalog.matches_any(subscription.event_types, event.event_type)
        and (not subscription.channels or not set(subscription.channels).isdisjoint(event.channels))
        and (not subscription.filter or filters.matches(subscription.filter, wire.payload(event)))
    )


def subscription_replay_missing(
    *, subscription: Subscription, since: datetime, until: datetime | None = None
) -> int:
    """Queue a delivery of every event the subscription matches and has none of, created in
    [since, until) and not before the subscription itself: what it missed while disabled.

    Only the owner's published events count (a test send is no event of theirs). Each
    batch commits on its own and the unique (event, subscription) constraint drops
    what a racing call or the fan-out wrote first, so a repeat queues nothing new. Returns
    how many it queued; a pump is woken once, after commit.
    """
    now = timezone.now()
    window = (max(since, subscription.created_at), min(until or now, now))
    if window[0] >= window[1]:
        return 0
    replay = _replay_missing_sql if connection.vendor == "postgresql" else _replay_missing_python
    queued = replay(subscription=subscription, window=window, now=now)
    if queued:
        transaction.on_commit(lambda: deliveries_wake(force=True), robust=True)
    return queued


def _replay_missing_sql(*, subscription: Subscription, window, now: datetime) -> int:
    """One INSERT … SELECT per batch, in event order; each batch resumes after the last event
    the one before it queued."""
    after = (window[0], 0)
    queued = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                *_replay_batch_statement(
                    subscription=subscription, window=window, after=after, now=now
                )
            )
            row = cursor.fetchone()
            if row is None:
                return queued
            count, *after = row
            queued += count


def _replay_batch_statement(
    *, subscription: Subscription, window, after: tuple, now: datetime
) -> tuple[str, list]:
    """PostgreSQL: queue the next batch of missing events after `after` (created_at, id), over
    the events' (owner, created_at) index; answers (queued, last created_at, last id), or no
    row when nothing is left."""
    patterns = subscription.event_types
    if catalog.WILDCARD in patterns:
        type_condition, type_params = "TRUE", []
    else:
        # `task.*` selects every type under `task.`, as catalog.patterns_matching says.
        prefixes = [_like_prefix(pattern[:-1]) for pattern in patterns if pattern.endswith(".*")]
        type_condition = "(e.event_type = ANY(%s::text[]) OR e.event_type LIKE ANY(%s::text[]))"
        type_params = [patterns, prefixes]
    if subscription.channels:
        channel_condition, channel_params = "e.channels ?| %s::text[]", [subscription.channels]
    else:
        channel_condition, channel_params = "TRUE", []
    if subscription.filter_path:
        # The payload as subscriptions.delivery.wire builds it; created_at as wire.timestamp
        # writes it: UTC, microseconds only when there are some, and a Z.
        filter_condition = """jsonb_path_match(
            jsonb_build_object(
                'id', e.public_id, 'event_type', e.event_type, 'created_at',
                to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
                || CASE WHEN to_char(e.created_at, 'US') = '000000' THEN ''
                        ELSE to_char(e.created_at, '.US') END
                || 'Z',
                'data', e.data
            ),
            %s::jsonpath, '{}', true
        )"""
        filter_params = [subscription.filter_path]
    else:
        filter_condition, filter_params = "TRUE", []
    # operational.subject_subscription_id: an event the module published about this endpoint.
    about_itself = """(
        e.source = %s AND e.event_type = ANY(%s::text[])
        AND jsonb_typeof(e.data -> 'endpoint_id') = 'number'
        AND e.data ->> 'endpoint_id' = %s
    )"""
    about_params = [
        operational.SOURCE,
        sorted(catalog.OPERATIONAL_EVENT_TYPES),
        str(subscription.pk),
    ]
    sql = f"""
        WITH batch AS (
            SELECT e.id, e.created_at FROM {Event._meta.db_table} e
            WHERE e.owner_id = %s AND e.created_at >= %s AND e.created_at < %s
                AND (e.created_at, e.id) > (%s, %s) AND e.event_type <> %s
                AND {type_condition} AND {channel_condition} AND {filter_condition}
                AND {about_itself} IS NOT TRUE
                AND NOT EXISTS (
                    SELECT 1 FROM {Delivery._meta.db_table} d
                    WHERE d.event_id = e.id AND d.subscription_id = %s
                )
            ORDER BY e.created_at, e.id
            LIMIT %s
        ), queued AS (
            INSERT INTO {Delivery._meta.db_table}
                (event_id, subscription_id, status, attempt_count, next_attempt_at, last_error,
                 created_at, updated_at)
            SELECT id, %s, %s, 0, %s, '', %s, %s FROM batch ORDER BY created_at, id
            ON CONFLICT (event_id, subscription_id) DO NOTHING
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM queued), last.created_at, last.id
        FROM (SELECT created_at, id FROM batch ORDER BY created_at DESC, id DESC LIMIT 1) last
    """  # noqa: S608  (table names from model metadata, values as parameters)
    params = [
        subscription.owner_id, *window, *after, catalog.TEST_EVENT_TYPE, *type_params,
        *channel_params, *filter_params, *about_params, subscription.pk, REPLAY_BATCH_SIZE,
        subscription.pk, Status.PENDING, now, now, now,
    ]  # fmt: skip
    return sql, params


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def _replay_missing_python(*, subscription: Subscription, window, now: datetime) -> int:
    """The same in batches of events matched by `subscription_wants`, for SQLite: each
    batch is one immediate transaction, so no writer slips between its read and its insert."""
    start, end = window
    events = (
        Event.objects.filter(
            owner_id=subscription.owner_id, created_at__gte=start, created_at__lt=end
        )
        .exclude(event_type=catalog.TEST_EVENT_TYPE)
        .order_by("created_at", "id")
    )
    queued = 0
    while batch := list(events[:REPLAY_BATCH_SIZE]):
        last = batch[-1]
        events = events.filter(
            Q(created_at__gt=last.created_at) | Q(created_at=last.created_at, id__gt=last.pk)
        )
        wanted = [e for e in batch if subscription_wants(subscription=subscription, event=e)]
        with transaction.atomic():
            have = set(
                Delivery.objects.filter(subscription=subscription, event__in=wanted).values_list(
                    "event_id", flat=True
                )
            )
            missing = [
                Delivery(event=event, subscription=subscription, next_attempt_at=now)
                for event in wanted
                if event.pk not in have
            ]
            Delivery.objects.bulk_create(missing, ignore_conflicts=True)
        queued += len(missing)
    return queued
