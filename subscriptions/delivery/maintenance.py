"""The beat's side of delivery: the sweep (the safety net for every lost message) and cleanup."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from subscriptions.delivery.dispatch import deliveries_wake, deliveries_wake_for_next_due
from subscriptions.models import Delivery, Subscription
from webhooks import catalog
from webhooks.models import Event

logger = logging.getLogger(__name__)

Status = Delivery.Status


@dataclass(frozen=True)
class SweepResult:
    released: int
    woken: int  # endpoints with work due now


def deliveries_sweep() -> SweepResult:
    """Hand back deliveries stranded by dead workers, and wake a pump while work is due.

    A purged queue, a restarted broker or a killed worker delays a delivery by one sweep
    interval, never drops it. Work falling due before the next sweep gets a wake timed for it.
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
    due_endpoints = (
        Delivery.objects.filter(
            status=Status.PENDING,
            next_attempt_at__lte=now,
            subscription__is_active=True,
            subscription__deleted_at__isnull=True,
        )
        .filter(Q(subscription__paused_until__isnull=True) | Q(subscription__paused_until__lte=now))
        .values("subscription_id")
        .distinct()
        .count()
    )
    if due_endpoints:
        deliveries_wake(force=True)
    deliveries_wake_for_next_due()
    return SweepResult(released=released, woken=due_endpoints)


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
