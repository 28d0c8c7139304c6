import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone

from channels_app.models import ChannelAccount, InboundEvent, ProducedEvent
from webhooks.models import Event

# (platform, external id) or (platform,) -> (valid until, what was loaded); bounded by clearing
# when full.
_accounts: dict[tuple, tuple[float, object]] = {}
_ACCOUNTS_MAX = 10_000


def _remembered(key: tuple, load):
    now = time.monotonic()
    remembered = _accounts.get(key)
    if remembered is not None and remembered[0] > now:
        return remembered[1]
    value = load()
    if len(_accounts) >= _ACCOUNTS_MAX:
        _accounts.clear()
    _accounts[key] = (now + settings.INBOUND_ACCOUNT_CACHE_SECONDS, value)
    return value


def active_account(*, platform: str, external_id: str) -> ChannelAccount | None:
    """The active account a receiver's request names, remembered in this process for
    INBOUND_ACCOUNT_CACHE_SECONDS.

    A burst of webhooks then costs one query and one secret decryption per few seconds instead
    of one per request; deactivating, re-keying or creating an account takes effect within
    that time.
    """
    return _remembered(
        (platform, external_id),
        lambda: (
            ChannelAccount.objects.select_related("owner")
            .filter(platform=platform, external_id=external_id, is_active=True)
            .first()
        ),
    )


def active_accounts(*, platform: str) -> list[ChannelAccount]:
    """Every active account of a platform whose requests do not name their account (Stripe, a
    configured source): each signature is tried against them. Remembered like
    active_account."""
    return _remembered(
        (platform,),
        lambda: list(
            ChannelAccount.objects.select_related("owner")
            .filter(platform=platform, is_active=True)
            .order_by("pk")
        ),
    )


def active_accounts_forget() -> None:
    """Drop what this process remembers (tests, whose rows do not outlive them)."""
    _accounts.clear()


def inbound_events_for(owner) -> QuerySet[InboundEvent]:
    return InboundEvent.objects.filter(account__owner=owner).select_related("account")


def inbound_events_waiting_count() -> int:
    return InboundEvent.objects.filter(status=InboundEvent.Status.RECEIVED).count()


def inbound_events_failed_count() -> int:
    return InboundEvent.objects.filter(status=InboundEvent.Status.FAILED).count()


def inbound_events_dead_count() -> int:
    return InboundEvent.objects.filter(status=InboundEvent.Status.DEAD).count()


BACKLOG_STATUSES = (
    InboundEvent.Status.RECEIVED,
    InboundEvent.Status.FAILED,
    InboundEvent.Status.DEAD,
)


def inbound_events_backlog() -> dict[tuple[str, str], int]:
    """(platform, status) -> how many rows wait to be processed (`received`), for a retry
    (`failed`) or for a reprocess (`dead`): one GROUP BY over the status index, for /metrics."""
    rows = (
        InboundEvent.objects.filter(status__in=BACKLOG_STATUSES)
        .values("platform", "status")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("platform", "status", "n")
    )
    return {(platform, status): n for platform, status, n in rows}


def inbound_counts_by_platform_and_status(*, window: timedelta) -> list[dict]:
    """[{platform, status, count}] of events received in the window."""
    return list(
        InboundEvent.objects.filter(received_at__gte=timezone.now() - window)
        .values("platform", "status")
        .annotate(count=Count("pk"))
        .order_by("platform", "status")
    )


def events_produced_by(inbound_event: InboundEvent) -> QuerySet[Event]:
    """The internal events an inbound request produced, in the order they were published."""
    return Event.objects.filter(inbound_cause__inbound_event=inbound_event).order_by("pk")


def inbound_causes(events) -> dict[int, dict]:
    """The inbound request behind each of `events` that came from one (lineage), as
    webhooks.lineage reads causes."""
    produced = ProducedEvent.objects.filter(event__in=events).select_related("inbound_event")
    return {
        link.event_id: {
            "type": "inbound_event",
            "id": link.inbound_event_id,
            "platform": link.inbound_event.platform,
            "topic": link.inbound_event.topic,
            "received_at": link.inbound_event.received_at.isoformat(),
            "url": reverse("inbound-event", args=[link.inbound_event_id]),
            "admin_url": reverse(
                "admin:channels_app_inboundevent_change", args=[link.inbound_event_id]
            ),
        }
        for link in produced
    }
