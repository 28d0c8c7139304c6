"""Writing results back: attempts, each delivery's next state, and each endpoint's health.

A pump records what came back in batches (every few hundred milliseconds), each batch one
short transaction. A delivery's new state is written only while the row is still under the
claim it was sent with: one cancelled meanwhile (its subscription deleted), or taken over by
another worker after its claim lapsed, keeps what happened to it since.

An endpoint's health is its failure streak: `DELIVERY_BREAKER_THRESHOLD` failures in a row
open its circuit for `DELIVERY_BREAKER_COOLDOWN_SECONDS` (deliveries stay pending; then one
probe decides), a 410 Gone or a streak as old as `DELIVERY_DISABLE_AFTER` disables it. Several
pumps record the same endpoint at once, so the streak is updated with SQL arithmetic, never by
writing back a count read earlier. A healthy endpoint that stays healthy costs no write.

What the owner should hear about (a circuit opening or closing, a disable, deliveries that
failed for good) goes to subscriptions.operational once it is written, which publishes it as
operational events after the commit, rate-limited, and never raises into recording.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from subscriptions import metrics, operational
from subscriptions.delivery import retry
from subscriptions.delivery.sending import Sending
from subscriptions.models import Delivery, DeliveryAttempt, Subscription
from webhooks.http.result import SendResult

logger = logging.getLogger(__name__)

Status = Delivery.Status


@dataclass
class Completed:
    """A request that came back (or failed), waiting to be recorded."""

    sending: Sending
    result: SendResult
    finished_at: datetime


def _decide(completed: Completed) -> retry.Decision:
    return retry.decide(
        completed.result,
        attempt_number=completed.sending.delivery.attempt_count + 1,
        retry_count=completed.sending.subscription.retry_count,
        cap_seconds=settings.DELIVERY_BACKOFF_CAP_SECONDS,
        now_timestamp=completed.finished_at.timestamp(),
    )


def _apply(delivery: Delivery, result: SendResult, decision: retry.Decision, now: datetime):
    delivery.attempt_count += 1
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error_message[:500]
    if decision.outcome == retry.Outcome.RETRY:
        delivery.status = Status.PENDING
        delivery.next_attempt_at = now + timedelta(seconds=decision.delay_seconds)
    else:
        succeeded = decision.outcome == retry.Outcome.SUCCEEDED
        delivery.status = Status.SUCCEEDED if succeeded else Status.FAILED
        delivery.next_attempt_at = None
        delivery.completed_at = now


def attempts_record(completed: list[Completed]) -> None:
    """Record a batch of finished requests, decide each delivery's next step, update health."""
    if not completed:
        return
    decisions = [_decide(c) for c in completed]
    attempts = [c.sending.attempt(c.result) for c in completed]  # numbered before the count moves
    for c, decision in zip(completed, decisions, strict=True):
        _apply(c.sending.delivery, c.result, decision, c.finished_at)
    _write(attempts, [c.sending.delivery for c in completed])
    metrics.attempts_observe(attempts=attempts, outcomes=[d.outcome for d in decisions])
    streaks = defaultdict(list)
    for c, decision in zip(completed, decisions, strict=True):
        streaks[c.sending.subscription.pk].append((c, decision.outcome))
    for outcomes in streaks.values():
        _endpoint_health_update(outcomes)
        operational.deliveries_exhausted(
            subscription=outcomes[0][0].sending.subscription,
            deliveries=[c.sending.delivery for c, o in outcomes if o == retry.Outcome.FAILED],
        )


def record_final_attempt(*, sending: Sending, result: SendResult, outcome: retry.Outcome) -> None:
    """Record a one-off attempt (a test send) whose outcome is already decided."""
    attempt = sending.attempt(result)
    _apply(sending.delivery, result, retry.Decision(outcome), timezone.now())
    _write([attempt], [sending.delivery])


def _write(attempts: list[DeliveryAttempt], deliveries: list[Delivery]) -> None:
    """Attempts and their deliveries' new state in one short transaction.

    Deliveries that ended the same way share one UPDATE (a batch of successes is a single
    statement); Django's bulk_update would build a CASE per field and row instead.
    """
    groups: dict[tuple, list[int]] = defaultdict(list)
    for d in deliveries:
        outcome = (d.claimed_until, d.status, d.next_attempt_at, d.last_status_code, d.last_error)
        groups[outcome].append(d.pk)
    now = timezone.now()
    with transaction.atomic():
        # The request went out, so its attempt is recorded; a conflict means a worker that
        # took over a lapsed claim already recorded this number.
        DeliveryAttempt.objects.bulk_create(attempts, ignore_conflicts=True)
        for (claim, status, next_attempt_at, status_code, error), ids in groups.items():
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


def _endpoint_health_update(outcomes: list[tuple[Completed, retry.Outcome]]) -> None:
    """Fold one endpoint's results (in completion order) into its failure streak."""
    subscription = outcomes[0][0].sending.subscription
    last_success = max(
        (i for i, (_, outcome) in enumerate(outcomes) if outcome == retry.Outcome.SUCCEEDED),
        default=None,
    )
    failures = outcomes if last_success is None else outcomes[last_success + 1 :]
    # A 410 asks us to stop whatever else the endpoint answered around it.
    gone = next((c for c, outcome in outcomes if outcome == retry.Outcome.GONE), None)
    if gone is not None:
        reason = f"The endpoint answered {gone.result.status_code} Gone."
        if subscription_disable(subscription=subscription, reason=reason):
            operational.endpoint_disabled(subscription=subscription, cause="gone", reason=reason)
        return
    first_failure_at = failures[0][0].finished_at if failures else None
    endpoint = Subscription.objects.filter(pk=subscription.pk)
    if last_success is not None:
        if not failures and subscription.consecutive_failures == 0:
            return  # healthy and stayed healthy: the common case costs no write
        endpoint.update(
            consecutive_failures=len(failures), failing_since=first_failure_at, paused_until=None
        )
        operational.endpoint_recovered(subscription=subscription)
    else:
        endpoint.update(
            consecutive_failures=F("consecutive_failures") + len(failures),
            failing_since=Coalesce(F("failing_since"), first_failure_at),
        )
    if not failures:
        return
    streak, failing_since, paused_until = endpoint.values_list(
        "consecutive_failures", "failing_since", "paused_until"
    ).get()
    now = timezone.now()
    if failing_since and now - failing_since >= settings.DELIVERY_DISABLE_AFTER:
        reason = f"Failing continuously since {failing_since.isoformat()}."
        if subscription_disable(subscription=subscription, reason=reason):
            operational.endpoint_disabled(subscription=subscription, cause="failing", reason=reason)
    elif streak >= settings.DELIVERY_BREAKER_THRESHOLD and not (
        paused_until and paused_until > now
    ):
        paused_until = now + timedelta(seconds=settings.DELIVERY_BREAKER_COOLDOWN_SECONDS)
        endpoint.update(paused_until=paused_until)
        logger.warning(
            "endpoint.paused",
            extra={
                "subscription_id": subscription.pk,
                "consecutive_failures": streak,
                "paused_until": paused_until.isoformat(),
            },
        )
        operational.endpoint_failing(
            subscription=subscription,
            consecutive_failures=streak,
            failing_since=failing_since,
            paused_until=paused_until,
            last_result=failures[-1][0].result,
        )


def subscription_disable(*, subscription: Subscription, reason: str) -> bool:
    """Stop sending to a subscription; what it still owed fails, so `recover` can re-queue it.

    True when this call disabled it; False when it was inactive already (another pump
    recorded a 410 from it first, or its owner switched it off), whose reason is kept.
    """
    now = timezone.now()
    with transaction.atomic():
        disabled = Subscription.objects.filter(pk=subscription.pk, is_active=True).update(
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
    subscription.is_active = False
    if not disabled:
        return False
    subscription.disabled_reason = reason
    logger.warning(
        "endpoint.disabled", extra={"subscription_id": subscription.pk, "reason": reason}
    )
    return True
