"""Waking workers: the broker message that says "look at subscription N now".

Messages carry only a subscription id, never a payload; a burst of publishes to one
subscription sends one message (webhooks.wake), and losing one is harmless: the sweep wakes
every subscription with due work every few seconds.
"""

from django.conf import settings

from webhooks import wake

DELIVER_TASK = "subscriptions.tasks.subscription_deliver_task"


def _wake_key(subscription_id: int) -> str:
    return f"deliveries:wake:{subscription_id}"


def subscriptions_wake(*, subscription_ids, force: bool = False) -> None:
    """Queue a deliver task per subscription, unless one is already queued (or `force`)."""
    for subscription_id in dict.fromkeys(subscription_ids):
        wake.wake(
            task=DELIVER_TASK,
            key=_wake_key(subscription_id),
            args=[subscription_id],
            ttl=settings.DELIVERY_WAKE_DEBOUNCE_SECONDS,
            force=force,
        )


def wake_acknowledge(subscription_id: int) -> None:
    """Called by the worker before it claims: publishes from now on queue a fresh wake."""
    wake.wake_acknowledge(_wake_key(subscription_id))
