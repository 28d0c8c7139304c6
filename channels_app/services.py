"""Writes for inbound that the platforms build on: storing what a receiver accepted, publishing
what it produced, the accounts configured by the environment, retention.

Processing a stored event (which calls into the platforms) is `channels_app.processing`.
"""

import hashlib
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from channels_app.models import ChannelAccount, InboundEvent, ProducedEvent
from channels_app.platforms.base import NotConfigured, Unauthorized
from webhooks import wake
from webhooks.services import PublishResult, event_publish

logger = logging.getLogger(__name__)

Status = InboundEvent.Status
DRAIN_TASK = "channels_app.tasks.inbound_events_drain_task"
_EXTERNAL_ID_LENGTH = InboundEvent._meta.get_field("external_id").max_length


def storable_text(text: str) -> str:
    """Text PostgreSQL can hold: an exception's message may quote a NUL or a lone surrogate."""
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode()


def _dedupe_key(external_id: str) -> str:
    """The id as sent, or its SHA-256 when longer than the column: cutting it short would
    make two ids that share a prefix one event, and drop the second as a duplicate."""
    if len(external_id) <= _EXTERNAL_ID_LENGTH:
        return external_id
    return "sha256:" + hashlib.sha256(external_id.encode("utf-8", "surrogatepass")).hexdigest()


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


def account_wake_key(account_id: int) -> str:
    return f"inbound:wake:{account_id}"


def inbound_account_wake(*, account_id: int, force: bool = False) -> None:
    """Queue one drain of the account's received events for a burst of them, not one each."""
    wake.wake(
        task=DRAIN_TASK,
        key=account_wake_key(account_id),
        args=[account_id],
        ttl=settings.INBOUND_WAKE_DEBOUNCE_SECONDS,
        force=force,
    )


def channel_event_publish(
    *,
    account: ChannelAccount,
    event_type: str,
    data: dict,
    idempotency_key: str,
    cause: InboundEvent | None,
) -> PublishResult:
    """Publish an internal event for `account` to its owner's subscribers, on its channel, and
    link it to the inbound request that caused it (lineage), when that is still stored."""
    result = event_publish(
        owner=account.owner,
        event_type=event_type,
        data=data,
        idempotency_key=idempotency_key,
        source=account.platform,
        channels=[account.channel],
    )
    if cause is not None and result.created:
        ProducedEvent.objects.create(inbound_event=cause, event=result.event)
    return result


def inbound_event_publish(*, event: InboundEvent, event_type: str, data: dict) -> PublishResult:
    """Publish the internal event a processed inbound event produced.

    Keyed by the inbound row, so processing it again (a retry, a reprocess) publishes nothing
    new: one internal event per inbound event.
    """
    return channel_event_publish(
        account=event.account,
        event_type=event_type,
        data=data,
        idempotency_key=f"inbound:{event.pk}",
        cause=event,
    )


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
