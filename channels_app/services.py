"""Writes for inbound: storing what a receiver accepted, processing it, reprocessing it."""

import hashlib
import logging
import time
import traceback
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from channels_app import metrics
from channels_app.models import ChannelAccount, InboundEvent
from channels_app.platforms.base import NotConfigured, Unauthorized, Unprocessable
from webhooks import wake
from webhooks.backoff import backoff_seconds
from webhooks.services import event_publish
from webhooks.untrusted import MalformedInput, json_parse

logger = logging.getLogger(__name__)

Status = InboundEvent.Status
PROCESS_TASK = "channels_app.tasks.inbound_event_process_task"
DRAIN_TASK = "channels_app.tasks.inbound_events_drain_task"
_DRAIN_BATCH = 100
_LOST_AFTER = timedelta(minutes=1)
_SWEEP_BATCH = 1000
_EXTERNAL_ID_LENGTH = InboundEvent._meta.get_field("external_id").max_length
# Processing errors that the next try would meet again: recorded once, never retried.
_FINAL_ERRORS = (Unprocessable, MalformedInput, DataError)


def storable_text(text: str) -> str:
    """Text PostgreSQL can hold: an exception's message may quote a NUL or a lone surrogate."""
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode()


def _dedupe_key(external_id: str) -> str:
    """The id as sent, or its SHA-256 when longer than the column: cutting it short would
    make two ids that share a prefix one event, and drop the second as a duplicate."""
    if len(external_id) <= _EXTERNAL_ID_LENGTH:
        return external_id
    return "sha256:" + hashlib.sha256(external_id.encode("utf-8", "surrogatepass")).hexdigest()


def _enqueue(event_ids: list[int], **options) -> None:
    from celery import current_app

    for event_id in event_ids:
        try:
            current_app.send_task(PROCESS_TASK, args=[event_id], **options)
        except Exception:
            # The row is committed: the sweep enqueues it again while it is owed processing.
            logger.exception("inbound.enqueue_failed", extra={"inbound_event_id": event_id})


def inbound_event_store(
    *,
    platform: str,
    account: ChannelAccount,
    topic: str,
    external_id: str,
    body: bytes,
    headers: dict,
    remote_addr: str | None,
) -> tuple[InboundEvent, bool]:
    """Store a received request once; returns the row and whether it was a duplicate.

    The unique constraint on (platform, account, external_id) decides, so two concurrent
    deliveries of the same event store one row. Processing is woken once the row is committed.
    A value PostgreSQL refuses (a NUL) raises DataError: the sender's to change (4xx).
    """
    external_id = _dedupe_key(external_id)
    fields = {
        "platform": platform,
        "account": account,
        "topic": topic[:100],
        "external_id": external_id,
        "body": body,
        "headers": headers,
        "remote_addr": remote_addr,
    }
    try:
        if connection.in_atomic_block:
            # A savepoint keeps a duplicate from aborting the caller's transaction.
            with transaction.atomic():
                event = InboundEvent.objects.create(**fields)
        else:
            # In autocommit the INSERT is its own transaction: one round trip, not three
            # (BEGIN, INSERT, COMMIT), and committed when it returns.
            event = InboundEvent.objects.create(**fields)
    except IntegrityError:
        existing = InboundEvent.objects.filter(
            platform=platform, account=account, external_id=external_id
        ).first()
        if existing is None:
            # Not a duplicate: the account itself is gone (deleted while a receiver still
            # remembered it). A database error, so the platform is told to retry (503).
            raise
        return existing, True
    transaction.on_commit(lambda: inbound_account_wake(account_id=account.pk), robust=True)
    return event, False


def _wake_key(account_id: int) -> str:
    return f"inbound:wake:{account_id}"


def inbound_account_wake(*, account_id: int, force: bool = False) -> None:
    """Queue one drain of the account's received events for a burst of them, not one each."""
    wake.wake(
        task=DRAIN_TASK,
        key=_wake_key(account_id),
        args=[account_id],
        ttl=settings.INBOUND_WAKE_DEBOUNCE_SECONDS,
        force=force,
    )


def inbound_events_drain(*, account_id: int) -> int:
    """Process the account's received events, oldest first; returns how many were processed.

    A failed one records its next attempt and the others go on. After INBOUND_DRAIN_SECONDS
    the drain wakes itself again and stops, so one busy account queues behind the others'
    work instead of holding a worker.
    """
    wake.wake_acknowledge(_wake_key(account_id))
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
    from channels_app.platforms.registry import platform_for

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


def inbound_event_publish(*, event: InboundEvent, event_type: str, data: dict) -> None:
    """Publish the internal event a processed inbound event produced to its owner's subscribers.

    Keyed by the inbound row, so processing it again (a retry, a reprocess) publishes nothing
    new: one internal event per inbound event.
    """
    event_publish(
        owner=event.account.owner,
        event_type=event_type,
        data=data,
        idempotency_key=f"inbound:{event.pk}",
        source=event.platform,
        channels=[event.account.channel],
    )


def inbound_events_reprocess(*, events: QuerySet[InboundEvent]) -> int:
    """Queue events again (one or many, e.g. every dead one since a date)."""
    ids = list(events.exclude(status=Status.RECEIVED).values_list("pk", flat=True))
    InboundEvent.objects.filter(pk__in=ids).update(
        status=Status.RECEIVED, next_attempt_at=None, error="", traceback=""
    )
    transaction.on_commit(lambda: _enqueue(ids), robust=True)
    return len(ids)


FINISHED = (Status.PROCESSED, Status.IGNORED, Status.DEAD)


def inbound_events_cleanup(*, batch_size: int = 2000) -> int:
    """Delete stored requests older than INBOUND_RETENTION that are done with: processed,
    ignored or dead. Raw bodies hold customer data; the projections they made stay. Never a
    row still to be processed; each batch is its own short transaction. Returns how many."""
    cutoff = timezone.now() - settings.INBOUND_RETENTION
    deleted = 0
    old = InboundEvent.objects.filter(received_at__lt=cutoff, status__in=FINISHED)
    while ids := list(old.values_list("pk", flat=True)[:batch_size]):
        # Status again in the DELETE: a row reprocessed since it was selected is kept.
        count, _ = InboundEvent.objects.filter(pk__in=ids, status__in=FINISHED).delete()
        deleted += count
        if count < len(ids):
            break  # the rest was reprocessed meanwhile; the next run looks again
    return deleted


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


class EnvironmentOwnerMissing(NotConfigured):
    pass


def environment_accounts_owner():
    """Who owns the accounts configured in the environment: ENVIRONMENT_ACCOUNTS_OWNER (a
    username), else the first superuser; None when neither exists."""
    users = get_user_model().objects
    if settings.ENVIRONMENT_ACCOUNTS_OWNER:
        return users.filter(username=settings.ENVIRONMENT_ACCOUNTS_OWNER, is_active=True).first()
    return users.filter(is_superuser=True, is_active=True).order_by("pk").first()


# Accounts brought in line with the environment by this process: a changed secret or password
# takes effect when the process starts, at the account's first request.
_synced_with_environment: set[tuple[str, str]] = set()


def environment_account(*, platform: str, external_id: str, secret: str = "", password: str = ""):
    """The single-tenant account configured in the environment (credentials the caller has
    just verified against it), created on first use and kept in line with it.

    Raises EnvironmentOwnerMissing (503, so the platform retries) when no one can own it.
    """
    owner = environment_accounts_owner()
    if owner is None:
        raise EnvironmentOwnerMissing(
            "Webhooks are configured in the environment but no user owns them: create a "
            "superuser (python manage.py createsuperuser) or set ENVIRONMENT_ACCOUNTS_OWNER."
        )
    account, created = ChannelAccount.objects.get_or_create(
        platform=platform,
        external_id=external_id,
        defaults={
            "owner": owner,
            "name": f"{platform} (from environment)",
            "secret": secret,
            "password_hash": make_password(password) if password else "",
            "from_environment": True,
        },
    )
    if not account.is_active:
        raise Unauthorized("This account is deactivated.")
    key = (platform, external_id)
    if not created and account.from_environment and key not in _synced_with_environment:
        changed = {}
        if account.secret != secret:
            changed["secret"] = secret
        if password and not check_password(password, account.password_hash):
            changed["password_hash"] = make_password(password)
        if changed:
            channel_account_save(account=account, **changed)
            logger.info(
                "channel_account.synced_with_environment",
                extra={"platform": platform, "fields": sorted(changed)},
            )
    _synced_with_environment.add(key)
    return account


def channel_account_save(*, account: ChannelAccount, password: str | None = None, **fields):
    """Create or update an account; a given password is stored as a Django password hash."""
    for field, value in fields.items():
        setattr(account, field, value)
    if password is not None:
        account.password_hash = make_password(password) if password else ""
    with transaction.atomic():  # a unique violation rolls back only this
        account.save()
    return account
