"""Writes for outbound subscriptions: the API and the admin call these."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from subscriptions import filters
from subscriptions.delivery import recording, retry, sending
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
