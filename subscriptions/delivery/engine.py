"""The delivery engine: claim due deliveries, send them, record attempts, decide what next.

The database is the only timer. A delivery is due when it is `pending` and its
`next_attempt_at` has passed; a worker claims a batch of one subscription's due rows by moving
them to `delivering` with a deadline (`claimed_until`), in one short transaction that skips rows
other workers hold. A broker message only says "look at subscription N now": losing it delays
work until the sweep (every few seconds) finds it, and a killed worker's claim expires and the
sweep hands its rows back. Each attempt is recorded before the batch moves on far, so a crash
re-sends at most the few unrecorded ones.

One endpoint cannot hold back the others: only one batch per subscription is in flight at a
time, and after `DELIVERY_BREAKER_THRESHOLD` consecutive failures its circuit opens for a
cool-down (deliveries stay pending), then a single probe decides whether it closes again.
"""

import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from subscriptions.delivery import retry, transport, wire
from subscriptions.delivery.dispatch import subscriptions_wake, wake_acknowledge
from subscriptions.models import Delivery, DeliveryAttempt, Subscription
from webhooks import catalog
from webhooks.models import Event

logger = logging.getLogger(__name__)

Status = Delivery.Status
_FLUSH_EVERY_ATTEMPTS = 25
_FLUSH_EVERY_SECONDS = 1.0


def active_secrets(subscription: Subscription, now: datetime) -> list[str]:
    """The current secret first, then the previous one while its grace period lasts."""
    secrets = [subscription.secret]
    if subscription.previous_secret and (
        subscription.previous_secret_expires_at and subscription.previous_secret_expires_at > now
    ):
        secrets.append(subscription.previous_secret)
    return secrets


def _claim_deadline(subscription: Subscription, now: datetime) -> datetime:
    """When the sweep may hand a claimed batch to another worker.

    A batch starts no send after DELIVERY_BATCH_SECONDS, and one send lasts at most its
    connect timeout (5 s) and two read timeouts (the response, then the capped body read).
    """
    longest_send = 5 + 2 * subscription.timeout_seconds
    seconds = (
        settings.DELIVERY_BATCH_SECONDS + longest_send + settings.DELIVERY_CLAIM_MARGIN_SECONDS
    )
    return now + timedelta(seconds=seconds)


def deliveries_claim(*, subscription: Subscription, limit: int, now: datetime) -> list[Delivery]:
    """Atomically move up to `limit` due deliveries of `subscription` to `delivering`.

    One batch per endpoint at a time: claimers of a subscription queue on its row, and one
    that finds a batch still in flight claims nothing (checking outside the lock let two
    workers each claim a batch of the same slow endpoint and starve every other one).
    PostgreSQL skips delivery rows another worker has locked; on SQLite (no row locks) the
    IMMEDIATE transaction serialises claimers and the status condition on the UPDATE keeps
    them apart.
    """
    with transaction.atomic():
        # FOR NO KEY UPDATE: publishers inserting deliveries (FOR KEY SHARE) are not blocked.
        list(Subscription.objects.select_for_update(no_key=True).filter(pk=subscription.pk))
        if _batch_in_flight(subscription, now):
            return []
        due = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("event")
            .filter(subscription=subscription, status=Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")[:limit]
        )
        if not due:
            return []
        deadline = _claim_deadline(subscription, now)
        claimed = Delivery.objects.filter(pk__in=[d.pk for d in due], status=Status.PENDING).update(
            status=Status.DELIVERING, claimed_until=deadline, updated_at=now
        )
        if claimed != len(due):
            # Another claimer got some of them between our read and write (SQLite only): keep
            # only what is ours.
            mine = set(
                Delivery.objects.filter(
                    pk__in=[d.pk for d in due], status=Status.DELIVERING, claimed_until=deadline
                ).values_list("pk", flat=True)
            )
            due = [d for d in due if d.pk in mine]
    for delivery in due:
        delivery.status, delivery.claimed_until = Status.DELIVERING, deadline
    return due


def _batch_in_flight(subscription: Subscription, now: datetime) -> bool:
    return Delivery.objects.filter(
        subscription=subscription, status=Status.DELIVERING, claimed_until__gt=now
    ).exists()


@dataclass
class _BatchState:
    """What a batch learned about its endpoint, written back to the subscription once."""

    consecutive_failures: int
    failing_since: datetime | None
    paused_until: datetime | None = None
    disabled_reason: str = ""


def attempt_send(*, delivery: Delivery, subscription: Subscription, secrets: list[str]):
    """Sign and POST one delivery; returns the attempt row (unsaved) and the transport result."""
    body = wire.payload_body(delivery.event)
    headers = wire.signed_headers(event=delivery.event, body=body, secrets=secrets)
    started_at = timezone.now()
    result = transport.post(
        subscription.url,
        body=body,
        headers=headers,
        timeout_seconds=subscription.timeout_seconds,
        allow_private=settings.WEBHOOKS_ALLOW_PRIVATE_URLS,
        user_agent=settings.WEBHOOKS_USER_AGENT,
    )
    attempt = DeliveryAttempt(
        delivery=delivery,
        number=delivery.attempt_count + 1,
        started_at=started_at,
        duration_ms=result.duration_ms,
        request_url=subscription.url,
        request_headers=wire.redacted(headers),
        response_status=result.status_code,
        response_headers=result.headers,
        response_body=result.body_head,
        error_kind=result.error_kind,
        error_message=result.error_message,
    )
    return attempt, result


def _apply_decision(
    delivery: Delivery,
    result: transport.SendResult,
    decision: retry.Decision,
    now: datetime,
) -> None:
    delivery.attempt_count += 1
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error_message[:500]
    delivery.updated_at = now  # claimed_until stays: _flush writes back only under that claim
    if decision.outcome == retry.Outcome.RETRY:
        delivery.status = Status.PENDING
        delivery.next_attempt_at = now + timedelta(seconds=decision.delay_seconds)
    else:
        delivery.status = (
            Status.SUCCEEDED if decision.outcome == retry.Outcome.SUCCEEDED else Status.FAILED
        )
        delivery.next_attempt_at = None
        delivery.completed_at = now


def record_final_attempt(
    *,
    delivery: Delivery,
    attempt: DeliveryAttempt,
    result: transport.SendResult,
    outcome: retry.Outcome,
    now: datetime,
) -> None:
    """Record a one-off attempt (a test send) whose outcome is already decided."""
    _apply_decision(delivery, result, retry.Decision(outcome), now)
    _flush([attempt], [delivery])


def _flush(attempts: list[DeliveryAttempt], deliveries: list[Delivery]) -> None:
    """Write buffered attempts and their deliveries' new state in one short transaction.

    Deliveries that ended the same way share one UPDATE (a batch of successes is a single
    statement); Django's bulk_update would build a CASE per field and row instead.
    """
    if not attempts:
        return
    groups: dict[tuple, list[int]] = defaultdict(list)
    for delivery in deliveries:
        outcome = (
            delivery.claimed_until,
            delivery.status,
            delivery.next_attempt_at,
            delivery.last_status_code,
            delivery.last_error,
        )
        groups[outcome].append(delivery.pk)
    now = timezone.now()
    with transaction.atomic():
        # The request went out, so its attempt is recorded; a conflict means a worker that
        # took over a lapsed claim already recorded this number.
        DeliveryAttempt.objects.bulk_create(attempts, ignore_conflicts=True)
        for (claim, status, next_attempt_at, status_code, error), ids in groups.items():
            # Only rows still under this claim: one cancelled meanwhile (its subscription
            # deleted) or taken over after the claim lapsed is not written back.
            Delivery.objects.filter(
                pk__in=ids, status=Status.DELIVERING, claimed_until=claim
            ).update(
                status=status,
                attempt_count=F("attempt_count") + 1,
                next_attempt_at=next_attempt_at,
                claimed_until=None,
                last_status_code=status_code,
                last_error=error,
                completed_at=None if status == Status.PENDING else now,
                updated_at=now,
            )
    attempts.clear()
    deliveries.clear()


def _release(deliveries: list[Delivery], until: datetime) -> None:
    """Hand claimed-but-unsent deliveries back as pending, due at `until`."""
    if not deliveries:
        return
    Delivery.objects.filter(
        pk__in=[d.pk for d in deliveries],
        status=Status.DELIVERING,
        claimed_until=deliveries[0].claimed_until,  # a batch shares one claim
    ).update(
        status=Status.PENDING, claimed_until=None, next_attempt_at=until, updated_at=timezone.now()
    )


def _note_result(state: _BatchState, outcome: retry.Outcome, status_code, now: datetime) -> None:
    if outcome == retry.Outcome.SUCCEEDED:
        state.consecutive_failures = 0
        state.failing_since = None
        return
    state.consecutive_failures += 1
    state.failing_since = state.failing_since or now
    if outcome == retry.Outcome.GONE:
        state.disabled_reason = f"The endpoint answered {status_code} Gone."
    elif now - state.failing_since >= settings.DELIVERY_DISABLE_AFTER:
        state.disabled_reason = f"Failing continuously since {state.failing_since.isoformat()}."
    elif state.consecutive_failures >= settings.DELIVERY_BREAKER_THRESHOLD:
        state.paused_until = now + timedelta(seconds=settings.DELIVERY_BREAKER_COOLDOWN_SECONDS)


def subscription_deliveries_send(*, subscription_id: int) -> int:
    """Send one batch of a subscription's due deliveries; returns how many were attempted.

    Returns early (0) when the subscription is gone, inactive, paused, or another worker has
    a batch of it in flight, so running this twice, or for a stale message, is harmless.
    """
    wake_acknowledge(subscription_id)
    now = timezone.now()
    subscription = Subscription.objects.filter(
        pk=subscription_id, is_active=True, deleted_at__isnull=True
    ).first()
    if subscription is None or (subscription.paused_until and subscription.paused_until > now):
        return 0
    half_open = subscription.consecutive_failures >= settings.DELIVERY_BREAKER_THRESHOLD
    limit = 1 if half_open else settings.DELIVERY_BATCH_SIZE
    batch = deliveries_claim(subscription=subscription, limit=limit, now=now)
    if not batch:
        return 0

    secrets = active_secrets(subscription, now)
    state = _BatchState(subscription.consecutive_failures, subscription.failing_since)
    attempted = 0
    try:
        attempted = _send_batch(subscription, batch, secrets, state)
    finally:
        # Whatever stopped the batch (even an error), unsent rows go back at once rather
        # than waiting for their claim to lapse; due when the circuit closes, if it opened.
        _release(batch[attempted:], state.paused_until or timezone.now())
    _subscription_update_health(subscription, state)
    # Wakes that arrived while this batch was in flight returned early: pick up their work.
    if not state.paused_until and not state.disabled_reason:
        _wake_if_more_due(subscription)
    return attempted


def _send_batch(
    subscription: Subscription, batch: list[Delivery], secrets: list[str], state: _BatchState
) -> int:
    """Send the batch in order, flushing as it goes; returns how many were attempted.

    Stops early when the endpoint's circuit opens, it is disabled, or the batch has used its
    time budget; the caller hands the unsent rest back.
    """
    pending_attempts: list[DeliveryAttempt] = []
    pending_rows: list[Delivery] = []
    last_flush = started = time.monotonic()
    attempted = 0
    for delivery in batch:
        attempt, result = attempt_send(
            delivery=delivery, subscription=subscription, secrets=secrets
        )
        now = timezone.now()
        decision = retry.decide(
            result,
            attempt_number=attempt.number,
            retry_count=subscription.retry_count,
            cap_seconds=settings.DELIVERY_BACKOFF_CAP_SECONDS,
            now_timestamp=now.timestamp(),
        )
        _apply_decision(delivery, result, decision, now)
        _note_result(state, decision.outcome, result.status_code, now)
        pending_attempts.append(attempt)
        pending_rows.append(delivery)
        attempted += 1
        if (
            len(pending_attempts) >= _FLUSH_EVERY_ATTEMPTS
            or time.monotonic() - last_flush >= _FLUSH_EVERY_SECONDS
            or result.status_code is None
        ):
            _flush(pending_attempts, pending_rows)
            last_flush = time.monotonic()
        if state.paused_until or state.disabled_reason:
            break
        if time.monotonic() - started >= settings.DELIVERY_BATCH_SECONDS:
            break  # a slow endpoint yields its worker; the wake queues the rest behind others
    _flush(pending_attempts, pending_rows)
    return attempted


def _subscription_update_health(subscription: Subscription, state: _BatchState) -> None:
    if state.disabled_reason:
        subscription_disable(subscription=subscription, reason=state.disabled_reason)
        return
    unchanged = (
        state.consecutive_failures == subscription.consecutive_failures
        and state.failing_since == subscription.failing_since
        and state.paused_until == subscription.paused_until
    )
    if unchanged:  # the common case, a healthy endpoint that stayed healthy: no write
        return
    Subscription.objects.filter(pk=subscription.pk).update(
        consecutive_failures=state.consecutive_failures,
        failing_since=state.failing_since,
        paused_until=state.paused_until,
    )
    if state.paused_until:
        logger.warning(
            "endpoint.paused",
            extra={
                "subscription_id": subscription.pk,
                "consecutive_failures": state.consecutive_failures,
                "paused_until": state.paused_until.isoformat(),
            },
        )


def subscription_disable(*, subscription: Subscription, reason: str) -> None:
    """Stop sending to a subscription; what it still owed fails, so `recover` can re-queue it."""
    now = timezone.now()
    with transaction.atomic():
        Subscription.objects.filter(pk=subscription.pk).update(
            is_active=False, disabled_reason=reason[:500], paused_until=None, updated_at=now
        )
        Delivery.objects.filter(
            subscription=subscription, status__in=[Status.PENDING, Status.DELIVERING]
        ).update(
            status=Status.FAILED,
            last_error="Subscription disabled.",
            next_attempt_at=None,
            claimed_until=None,
            completed_at=now,
            updated_at=now,
        )
    subscription.is_active, subscription.disabled_reason = False, reason
    logger.warning(
        "endpoint.disabled", extra={"subscription_id": subscription.pk, "reason": reason}
    )


def _wake_if_more_due(subscription: Subscription) -> None:
    if Delivery.objects.filter(
        subscription=subscription, status=Status.PENDING, next_attempt_at__lte=timezone.now()
    ).exists():
        subscriptions_wake(subscription_ids=[subscription.pk], force=True)


@dataclass(frozen=True)
class SweepResult:
    released: int
    woken: int


def deliveries_sweep() -> SweepResult:
    """Hand back deliveries stranded by dead workers, and wake every subscription with due work.

    This is the safety net for every lost message: a purged queue, a restarted broker or a
    killed worker delays a delivery by one sweep interval, never drops it.
    """
    now = timezone.now()
    stranded = Delivery.objects.filter(status=Status.DELIVERING, claimed_until__lt=now)
    # A test send is one attempt made for a person waiting on it: if its web worker died,
    # it failed; it does not become a delivery with a retry schedule.
    stranded.filter(event__event_type=catalog.TEST_EVENT_TYPE).update(
        status=Status.FAILED,
        claimed_until=None,
        next_attempt_at=None,
        last_error="The test send was interrupted.",
        completed_at=now,
        updated_at=now,
    )
    released = stranded.update(
        status=Status.PENDING, claimed_until=None, next_attempt_at=now, updated_at=now
    )
    if released:
        logger.warning("deliveries.stranded_released", extra={"count": released})
    due_subscriptions = list(
        Delivery.objects.filter(
            status=Status.PENDING,
            next_attempt_at__lte=now,
            subscription__is_active=True,
            subscription__deleted_at__isnull=True,
        )
        .exclude(subscription__paused_until__gt=now)
        .values_list("subscription_id", flat=True)
        .distinct()
    )
    subscriptions_wake(subscription_ids=due_subscriptions, force=True)
    return SweepResult(released=released, woken=len(due_subscriptions))


def deliveries_cleanup(*, batch_size: int = 2000) -> dict[str, int]:
    """Delete finished history older than the retention period, in small batches.

    Never touches pending or delivering rows, and an event goes only once none of its
    deliveries is unfinished. Each batch is its own short transaction.
    """
    cutoff = timezone.now() - settings.DELIVERY_RETENTION
    finished = [Status.SUCCEEDED, Status.FAILED, Status.CANCELLED]
    deleted = {"deliveries": 0, "events": 0, "subscriptions": 0}
    while ids := list(
        Delivery.objects.filter(created_at__lt=cutoff, status__in=finished).values_list(
            "pk", flat=True
        )[:batch_size]
    ):
        # Status again in the DELETE: a row retried since it was selected is kept.
        _, by_model = Delivery.objects.filter(pk__in=ids, status__in=finished).delete()
        deleted["deliveries"] += by_model.get(Delivery._meta.label, 0)
    while ids := list(
        Event.objects.filter(created_at__lt=cutoff)
        .exclude(deliveries__status__in=[Status.PENDING, Status.DELIVERING])
        .values_list("pk", flat=True)[:batch_size]
    ):
        Event.objects.filter(pk__in=ids).exclude(
            deliveries__status__in=[Status.PENDING, Status.DELIVERING]
        ).delete()
        deleted["events"] += len(ids)
    deleted["subscriptions"], _ = Subscription.objects.filter(
        deleted_at__lt=cutoff, deliveries__isnull=True
    ).delete()
    return deleted
