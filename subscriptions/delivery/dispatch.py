"""Waking workers: the broker message that says "look at subscription N now".

Messages carry only a subscription id, never a payload, and losing one is harmless: the sweep
wakes every subscription with due work every few seconds. A burst of publishes to one
subscription sends one message, not thousands: a short-lived cache key marks a wake as already
queued, and the worker clears it before it claims, so a publish after that queues a new wake.
"""

import logging

from celery import current_app
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

DELIVER_TASK = "subscriptions.tasks.subscription_deliver_task"


def _wake_key(subscription_id: int) -> str:
    return f"deliveries:wake:{subscription_id}"


def subscriptions_wake(*, subscription_ids, force: bool = False) -> None:
    """Queue a deliver task per subscription, unless one is already queued (or `force`)."""
    ttl = settings.DELIVERY_WAKE_DEBOUNCE_SECONDS
    for subscription_id in dict.fromkeys(subscription_ids):
        key = _wake_key(subscription_id)
        if force:
            cache.set(key, 1, timeout=ttl)
        elif not cache.add(key, 1, timeout=ttl):
            continue
        try:
            current_app.send_task(DELIVER_TASK, args=[subscription_id])
        except Exception:
            # The delivery rows are committed; the sweep will wake this subscription.
            cache.delete(key)
            logger.exception("deliveries.wake_failed", extra={"subscription_id": subscription_id})


def wake_acknowledge(subscription_id: int) -> None:
    """Called by the worker before it claims: publishes from now on queue a fresh wake."""
    cache.delete(_wake_key(subscription_id))
