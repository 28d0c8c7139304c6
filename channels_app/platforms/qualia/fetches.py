"""The Qualia message fetch, owed by a `message` activity until it succeeds or gives up.

Qualia's webhook says only that a message exists; its text comes from Qualia's API. The
activity row holds the fetch's state (status, attempts, next time, last error), so a flushed
broker or an API outage of hours delays the fetch and never loses it: a task tries it, a
failure schedules the next try with backoff, and the inbound sweep queues every due one. It
keeps trying for QUALIA_FETCH_GIVE_UP_AFTER (48 h), then the activity's fetch is dead, with its
error, until fetched again from the admin. Fetching twice stores one message and publishes one
event (both keyed by the message id).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from channels_app.platforms.qualia.client import qualia_message_fetch
from channels_app.platforms.qualia.models import Activity
from channels_app.services import storable_text
from webhooks import wake
from webhooks.backoff import backoff_seconds

logger = logging.getLogger(__name__)

Fetch = Activity.Fetch
FETCH_TASK = "channels_app.platforms.qualia.tasks.qualia_message_fetch_task"
# A fetch under way: no one else tries it for this long (more than the API call's timeout).
_LEASE = timedelta(minutes=2)
_SWEEP_BATCH = 1000


def message_fetch_owe(*, activity: Activity) -> None:
    """Record that `activity`'s message is to be fetched, and try as soon as it commits."""
    Activity.objects.filter(pk=activity.pk).update(
        fetch_status=Fetch.PENDING, fetch_next_at=timezone.now()
    )
    transaction.on_commit(lambda: _hint(activity.pk, 0), robust=True)


def _hint(activity_id: int, seconds: float) -> None:
    wake.wake_later(task=FETCH_TASK, args=[activity_id], seconds=seconds)


def message_fetch_attempt(*, activity_id: int) -> bool:
    """Try the fetch if it is due and no one else is trying it; returns whether it succeeded."""
    now = timezone.now()
    claimed = Activity.objects.filter(
        pk=activity_id, fetch_status=Fetch.PENDING, fetch_next_at__lte=now
    ).update(fetch_next_at=now + _LEASE)
    if not claimed:
        return False
    activity = Activity.objects.select_related("account__owner").get(pk=activity_id)
    try:
        qualia_message_fetch(activity=activity)
    except Exception as exc:
        _failure_record(activity, exc)
        return False
    Activity.objects.filter(pk=activity_id).update(
        fetch_status=Fetch.FETCHED,
        fetch_attempts=F("fetch_attempts") + 1,
        fetch_next_at=None,
        fetch_error="",
    )
    return True


def _failure_record(activity: Activity, exc: Exception) -> None:
    now = timezone.now()
    attempts = activity.fetch_attempts + 1
    dead = now - activity.received_at >= settings.QUALIA_FETCH_GIVE_UP_AFTER
    delay = backoff_seconds(attempts, cap_seconds=settings.QUALIA_FETCH_BACKOFF_CAP_SECONDS)
    error = storable_text(f"{type(exc).__name__}: {exc}"[:2000])
    Activity.objects.filter(pk=activity.pk).update(
        fetch_status=Fetch.DEAD if dead else Fetch.PENDING,
        fetch_attempts=attempts,
        fetch_next_at=None if dead else now + timedelta(seconds=delay),
        fetch_error=error,
    )
    logger.warning(
        "qualia.message_fetch_failed",
        extra={"activity_id": activity.pk, "attempt": attempts, "dead": dead, "error": error},
    )
    if not dead:
        _hint(activity.pk, delay)  # the sweep is what guarantees it


def message_fetches_sweep() -> int:
    """Queue every due fetch, whatever happened to its task; returns how many."""
    due = Activity.objects.filter(fetch_status=Fetch.PENDING, fetch_next_at__lte=timezone.now())
    ids = list(due.order_by("fetch_next_at").values_list("pk", flat=True)[:_SWEEP_BATCH])
    for activity_id in ids:
        _hint(activity_id, 0)
    return len(ids)


def message_fetches_retry(*, activities: QuerySet[Activity]) -> int:
    """Owe again the fetches that gave up (from the admin), due now."""
    return activities.filter(fetch_status=Fetch.DEAD).update(
        fetch_status=Fetch.PENDING, fetch_next_at=timezone.now(), fetch_error=""
    )
