"""Waking pumps: the broker message that says "there is due work, come and claim it".

Messages carry no id and no payload: any pump claims whatever is due. A burst of publishes
sends one message (webhooks.wake), and losing one is harmless: the sweep wakes a pump every
few seconds while work is due. A retry's time lives on its row; the message that wakes a pump
for it is only a hint sent with a countdown, and the sweep is the safety net.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from subscriptions.models import Delivery
from webhooks import wake

PUMP_TASK = "subscriptions.tasks.deliveries_pump_task"
_WAKE_KEY = "deliveries:wake"


def deliveries_wake(*, force: bool = False) -> None:
    """Queue a pump, unless a wake is already queued (or `force`)."""
    wake.wake(
        task=PUMP_TASK,
        key=_WAKE_KEY,
        args=[],
        ttl=settings.DELIVERY_WAKE_DEBOUNCE_SECONDS,
        force=force,
    )


def deliveries_wake_for_next_due(*, within: timedelta | None = None) -> None:
    """Queue a pump for when the next pending delivery falls due, if that is within `within`
    (default: one sweep interval; later ones the next sweep looks at again)."""
    now = timezone.now()
    within = within or timedelta(seconds=settings.DELIVERY_SWEEP_SECONDS)
    next_due = Delivery.objects.filter(
        status=Delivery.Status.PENDING, next_attempt_at__gt=now, next_attempt_at__lte=now + within
    ).aggregate(at=Min("next_attempt_at"))["at"]
    if next_due is not None:
        wake.wake_later(task=PUMP_TASK, args=[], seconds=(next_due - now).total_seconds())


def wake_acknowledge() -> None:
    """Called by a pump before it claims: publishes from now on queue a fresh wake."""
    wake.wake_acknowledge(_WAKE_KEY)
