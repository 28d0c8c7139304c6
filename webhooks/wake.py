"""Waking workers without a broker message per row: the message says "look at N now".

Both directions keep their work in the database and send a worker only the id of what to look
at (a subscription, a channel account). A burst of rows for one id sends one message, not
thousands: a short-lived cache key marks a wake as already queued, and the worker clears it
before it looks, so a row committed after that queues a new wake, and one committed before it
is seen by the look. Losing a message (or the cache) is harmless: each direction's sweep wakes
whatever still has work.
"""

import logging

from celery import current_app
from django.core.cache import cache

logger = logging.getLogger(__name__)


def wake(*, task: str, key: str, args: list, ttl: int, force: bool = False) -> bool:
    """Queue `task(*args)` unless a wake under `key` is already queued (or `force`)."""
    try:
        if force:
            cache.set(key, 1, timeout=ttl)
        elif not cache.add(key, 1, timeout=ttl):
            return False
        current_app.send_task(task, args=args)
    except Exception:
        # The rows are committed; the sweep finds them.
        cache.delete(key)
        logger.exception("wake.failed", extra={"task": task, "wake_key": key})
        return False
    return True


def wake_acknowledge(key: str) -> None:
    """Called by the worker before it looks: rows from now on queue a fresh wake."""
    cache.delete(key)
