"""Waking workers without a broker message per row: the message says "look at N now".

Both directions keep their work in the database and send a worker only the id of what to look
at (a subscription, a channel account). A burst of rows for one id sends one message, not
thousands: a short-lived key marks a wake as already queued, and the worker clears it before
it looks, so a row committed after that queues a new wake, and one committed before it is
seen by the look. Losing a message (or the key) is harmless: each direction's sweep wakes
whatever still has work.

The key is one `SET NX EX` on Redis when REDIS_URL is set (the hot path of every inbound
webhook), else an entry in Django's cache (the embedded default).
"""

import contextlib
import logging

from celery import current_app
from django.core.cache import cache

from webhooks.redis import redis_client

logger = logging.getLogger(__name__)


def _mark(key: str, ttl: int, *, force: bool) -> bool:
    """Set the key; False when it was already set (and not `force`)."""
    client = redis_client()
    if client is not None:
        return bool(client.set(key, 1, ex=ttl, nx=not force))
    if force:
        cache.set(key, 1, timeout=ttl)
        return True
    return cache.add(key, 1, timeout=ttl)


def _clear(key: str) -> None:
    client = redis_client()
    if client is not None:
        client.delete(key)
    else:
        cache.delete(key)


def wake(*, task: str, key: str, args: list, ttl: int, force: bool = False) -> bool:
    """Queue `task(*args)` unless a wake under `key` is already queued (or `force`)."""
    try:
        if not _mark(key, ttl, force=force):
            return False
        current_app.send_task(task, args=args)
    except Exception:
        # The rows are committed; the sweep finds them.
        with contextlib.suppress(Exception):  # Redis itself may be what failed
            _clear(key)
        logger.exception("wake.failed", extra={"task": task, "wake_key": key})
        return False
    return True


def wake_later(*, task: str, args: list, seconds: float) -> bool:
    """Queue `task(*args)` to run in `seconds`: a hint for work whose time is on its row.

    No key is set, so a wake for work due now is never held back by one for later.
    """
    try:
        current_app.send_task(task, args=args, countdown=max(0.0, seconds))
    except Exception:
        logger.exception("wake.failed", extra={"task": task})
        return False
    return True


def wake_acknowledge(key: str) -> None:
    """Called by the worker before it looks: rows from now on queue a fresh wake."""
    _clear(key)
