"""The inbound pipeline after storage: processing stored events through their platform,
recording failures with their next attempt, and the sweep that owns those retries.

It sits above the platform packages (it dispatches to them through the registry); what the
platforms themselves call lives below them, in `channels_app.services`.
"""

import logging
import time
import traceback
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import DataError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from channels_app import metrics
from channels_app.models import InboundEvent
from channels_app.platforms.base import Unprocessable
from channels_app.platforms.registry import platform_for
from channels_app.services import account_wake_key, inbound_account_wake, storable_text
from webhooks import wake
from webhooks.backoff import backoff_seconds
from webhooks.untrusted import MalformedInput, json_parse

logger = logging.getLogger(__name__)

Status = InboundEvent.Status
PROCESS_TASK = "channels_app.tasks.inbound_event_process_task"
_DRAIN_BATCH = 100
_LOST_AFTER = timedelta(minutes=1)
_SWEEP_BATCH = 1000
# Processing errors that the next try would meet again: recorded once, never retried.
_FINAL_ERRORS = (Unprocessable, MalformedInput, DataError)


def _enqueue(event_ids: list[int], **options) -> None:
    for event_id in event_ids:
        try:
            current_app.send_task(PROCESS_TASK, args=[event_id], **options)
        except Exception:
            # The row is committed: the sweep enqueues it again while it is owed processing.
            logger.exception("inbound.enqueue_failed", extra={"inbound_event_id": event_id})


def inbound_events_drain(*, account_id: int) -> int:
    """Process the account's received events, oldest first; returns how many were processed.

    A failed one records its next attempt and the others go on. After INBOUND_DRAIN_SECONDS
    the drain wakes itself again and stops, so one busy account queues behind the others'
    work instead of holding a worker.
    """
    wake.wake_acknowledge(account_wake_key(account_id))
    deadline = time.monotonic() + settings.INBOUND_DRAIN_SECONDS
    processed, after = 0, 0
    while events := list(
        InboundEvent.objects.select_related("account__owner")
        .filter(account_id=account_id, status=Status.RECEIVED, pk__gt=after)
        .order_by("pk")[:_DRAIN_BATCH]
    ):
        for event in events:
            processed += inbound_event_process(event=event)
            if time.monotonic() >= deadline:
                inbound_account_wake(account_id=account_id, force=True)
                return processed
        after = events[-1].pk  # forward only: a row another worker holds is theirs to finish
    return processed


def inbound_event_process(*, event: InboundEvent) -> bool:
    """Run the platform's handler in one transaction: projections and internal events.

    The row is locked first and skipped when another worker holds it, it is done, or it is
    failed and not yet due, so a duplicated message (a sweep, a drain and a hint racing)
    processes it once. Returns whether it ran. An error is recorded on the row with its
    traceback: the row is `failed` with its next attempt time, which the sweep owns, or `dead`
    after INBOUND_MAX_RETRIES retries, or at once for an error no retry can clear
    (Unprocessable, a body that is not JSON we hold, a value the database refuses).
    """
    started = time.monotonic()
    try:
        with transaction.atomic():
            attempts = (
                InboundEvent.objects.select_for_update(skip_locked=True)
                .filter(
                    Q(status=Status.RECEIVED)
                    | Q(status=Status.FAILED, next_attempt_at__lte=timezone.now()),
                    pk=event.pk,
                )
                .values_list("attempts", flat=True)
                .first()
            )
            if attempts is None:
                return False
            handled = platform_for(event.platform).process(event, json_parse(bytes(event.body)))
            InboundEvent.objects.filter(pk=event.pk).update(
                status=Status.PROCESSED if handled else Status.IGNORED,
                attempts=attempts + 1,
                error="",
                traceback="",
                next_attempt_at=None,
                processed_at=timezone.now(),
            )
    except _FINAL_ERRORS as exc:
        _failure_record(event, exc, started, attempt=attempts + 1, final=True)
    except Exception as exc:
        _failure_record(event, exc, started, attempt=attempts + 1, final=False)
    else:
        outcome = Status.PROCESSED if handled else Status.IGNORED
        metrics.processing_observe(event=event, outcome=outcome, started=started)
    return True


def _failure_record(
    event: InboundEvent, exc: Exception, started: float, *, attempt: int, final: bool
) -> None:
    """Record a failed attempt: due again after a backoff, or dead when no retry is left."""
    # Unprocessable and MalformedInput say what is wrong with the event in words for the admin.
    said = isinstance(exc, Unprocessable | MalformedInput)
    reason = str(exc) if said else f"{type(exc).__name__}: {exc}"
    dead = final or attempt > settings.INBOUND_MAX_RETRIES
    delay = backoff_seconds(attempt, cap_seconds=settings.INBOUND_BACKOFF_CAP_SECONDS)
    InboundEvent.objects.filter(pk=event.pk).update(
        status=Status.DEAD if dead else Status.FAILED,
        attempts=attempt,
        next_attempt_at=None if dead else timezone.now() + timedelta(seconds=delay),
        error=storable_text(reason[:2000]),
        traceback=storable_text(traceback.format_exc()[-10000:]),
    )
    logger.warning(
        "inbound.failed",
        extra={"inbound_event_id": event.pk, "attempt": attempt, "dead": dead, "error": reason},
    )
    if not dead:
        # A hint for the retry's time; the sweep is what guarantees it.
        transaction.on_commit(
            lambda: wake.wake_later(task=PROCESS_TASK, args=[event.pk], seconds=delay),
            robust=True,
        )
    metrics.processing_observe(
        event=event, outcome=Status.DEAD if dead else Status.FAILED, started=started
    )


def inbound_events_reprocess(*, events: QuerySet[InboundEvent]) -> int:
    """Queue events again (one or many, e.g. every dead one since a date)."""
    ids = list(events.exclude(status=Status.RECEIVED).values_list("pk", flat=True))
    InboundEvent.objects.filter(pk__in=ids).update(
        status=Status.RECEIVED, next_attempt_at=None, error="", traceback=""
    )
    transaction.on_commit(lambda: _enqueue(ids), robust=True)
    return len(ids)


def inbound_events_sweep() -> int:
    """Queue what is owed processing whatever happened to its broker message: `received`
    rows older than a minute, and `failed` rows whose next attempt is due."""
    now = timezone.now()
    lost = InboundEvent.objects.filter(status=Status.RECEIVED, received_at__lt=now - _LOST_AFTER)
    due = InboundEvent.objects.filter(status=Status.FAILED, next_attempt_at__lte=now)
    ids = [
        *lost.values_list("pk", flat=True)[:_SWEEP_BATCH],
        *due.order_by("next_attempt_at").values_list("pk", flat=True)[:_SWEEP_BATCH],
    ]
    _enqueue(ids)
    return len(ids)
