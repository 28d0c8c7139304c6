"""Operational events: the delivery engine telling an endpoint's owner how that endpoint does.

`endpoint.failing`, `endpoint.recovered`, `endpoint.disabled` and `delivery.exhausted`
(webhooks.catalog) are published with `event_publish` as ordinary events of the endpoint's
owner, with source "system", so the owner subscribes to them like to any other type. Each
carries the endpoint's `endpoint_id`, and the fan-out never delivers one to the subscription
it is about (subscriptions.fanout): an endpoint cannot feed on its own failures.

Recording calls the functions below after it has written its results. Each builds its payload
from what recording holds in memory and queues the rest with `transaction.on_commit` (at once
in the pump, which records in autocommit); whatever fails in there is logged, never raised, so
publishing can never break recording.

Rate limits, per endpoint, kept in Django's cache (Redis in production) under keys that name
the subscription by id and creation time, so a reused id inherits nothing:
- `endpoint.disabled`: once per disable. The row's active → inactive update decides, so
  several pumps recording 410s from the same endpoint publish one.
- `endpoint.failing`: when the circuit opens, or opens again after a failed probe, while no
  failing spell of the endpoint is announced; at most one per OPERATIONAL_EVENT_WINDOW_SECONDS.
  A spell that began inside the window is announced by its first failed probe after it.
- `endpoint.recovered`: when a success closes the circuit of an announced spell; one per
  spell, so never more than `endpoint.failing`.
- `delivery.exhausted`: at most one per OPERATIONAL_EVENT_WINDOW_SECONDS. Those within the
  window are counted, and the next one published carries the count: a storm of 10,000 is one
  event, its `count` adding up to 10,000 with the next. Failed deliveries of operational
  events are not reported, so two failing endpoints cannot keep reporting each other.

With OPERATIONAL_EMAILS the owner is also emailed (when they have an address) about
`endpoint.disabled`, and about `delivery.exhausted` at most once an hour per endpoint, from a
task on the default queue, so a slow mail server never holds up a pump.
"""

import functools
import logging
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from subscriptions.models import Delivery, Subscription
from webhooks.catalog import (
    DELIVERY_EXHAUSTED,
    ENDPOINT_DISABLED,
    ENDPOINT_FAILING,
    ENDPOINT_RECOVERED,
    OPERATIONAL_EVENT_TYPES,
)
from webhooks.http.result import SendResult
from webhooks.models import Event
from webhooks.services import event_publish

logger = logging.getLogger(__name__)

SOURCE = "system"
EXHAUSTED_EMAIL_EVERY_SECONDS = 3600
# How long an announced failing spell is remembered: it ends in recovery or, at the latest,
# in the endpoint being disabled DELIVERY_DISABLE_AFTER after it began.
SPELL_MEMORY_MARGIN_SECONDS = 24 * 3600


def subject_subscription_id(event: Event) -> int | None:
    """The subscription an operational event is about, which must not receive it.

    Only events this module published count: anyone may publish a type of the catalog, but
    no other source can keep an event from one of the owner's subscriptions.
    """
    if event.source != SOURCE or event.event_type not in OPERATIONAL_EVENT_TYPES:
        return None
    subject = event.data.get("endpoint_id") if isinstance(event.data, dict) else None
    return subject if type(subject) is int else None


# --- What recording calls ---------------------------------------------------------------------


def endpoint_failing(
    *,
    subscription: Subscription,
    consecutive_failures: int,
    failing_since: datetime | None,
    paused_until: datetime,
    last_result: SendResult,
) -> None:
    """The endpoint's circuit opened (or opened again after a failed probe)."""
    data = {
        **_endpoint(subscription),
        "consecutive_failures": consecutive_failures,
        "failing_since": _time(failing_since),
        "paused_until": _time(paused_until),
        "last_status_code": last_result.status_code,
        "last_error": last_result.error_message[:500],
    }
    _after_commit(_failing_announce, subscription, data)


def endpoint_recovered(*, subscription: Subscription) -> None:
    """A success closed the endpoint's circuit (whether it was open, the cache knows)."""
    data = {
        **_endpoint(subscription),
        "failing_since": _time(subscription.failing_since),
        "recovered_at": _time(timezone.now()),
    }
    _after_commit(_recovered_announce, subscription, data)


def endpoint_disabled(*, subscription: Subscription, cause: str, reason: str) -> None:
    """The endpoint was disabled just now (`cause` "gone" or "failing")."""
    data = {
        **_endpoint(subscription),
        "cause": cause,
        "reason": reason,
        "disabled_at": _time(timezone.now()),
    }
    _after_commit(_disabled_announce, subscription, data)


def deliveries_exhausted(*, subscription: Subscription, deliveries: list[Delivery]) -> None:
    """These deliveries of the endpoint (recorded just now) failed for good."""
    reported = [
        d
        for d in deliveries
        if not (d.event.source == SOURCE and d.event.event_type in OPERATIONAL_EVENT_TYPES)
    ]
    if not reported:
        return
    latest = reported[-1]
    data = {
        **_endpoint(subscription),
        "delivery_id": latest.pk,
        "event_id": latest.event.public_id,
        "event_type": latest.event.event_type,
        "attempts": latest.attempt_count,
        "last_status_code": latest.last_status_code,
        "last_error": latest.last_error,
    }
    _after_commit(_exhausted_announce, subscription, data, count=len(reported))


# --- After the results committed --------------------------------------------------------------


def _after_commit(announce, subscription: Subscription, data: dict, **kwargs) -> None:
    def run():
        try:
            announce(subscription, data, **kwargs)
        except Exception:
            logger.exception(
                "operational.failed",
                extra={"subscription_id": subscription.pk, "announce": announce.__name__},
            )

    transaction.on_commit(run)


def _failing_announce(subscription: Subscription, data: dict) -> None:
    if cache.get(_key(subscription, "spell")) is not None:
        return  # this failing spell is announced already
    if not _window_take(subscription, ENDPOINT_FAILING):
        return
    if _publish(subscription, ENDPOINT_FAILING, data) is not None:
        spell_seconds = settings.DELIVERY_DISABLE_AFTER.total_seconds()
        cache.set(
            _key(subscription, "spell"), 1, timeout=spell_seconds + SPELL_MEMORY_MARGIN_SECONDS
        )


def _recovered_announce(subscription: Subscription, data: dict) -> None:
    # Deleting is the test: of several pumps closing the same circuit, one deletes the key.
    if cache.delete(_key(subscription, "spell")):
        _publish(subscription, ENDPOINT_RECOVERED, data)


def _disabled_announce(subscription: Subscription, data: dict) -> None:
    cache.delete(_key(subscription, "spell"))  # the spell ends here, not in a recovery
    published = _publish(subscription, ENDPOINT_DISABLED, data)
    if published is not None:
        _email_queue(*published)


def _exhausted_announce(subscription: Subscription, data: dict, *, count: int) -> None:
    counter = _key(subscription, "exhausted-uncounted")
    if not _window_take(subscription, DELIVERY_EXHAUSTED):
        _counter_add(counter, count)
        return
    carried = cache.get(counter) or 0
    published = _publish(subscription, DELIVERY_EXHAUSTED, {**data, "count": count + carried})
    if published is None:
        return
    if carried:
        cache.decr(counter, carried)  # not a reset: counts added meanwhile stay for the next
    if cache.add(_key(subscription, "exhausted-emailed"), 1, timeout=EXHAUSTED_EMAIL_EVERY_SECONDS):
        _email_queue(*published)


def _publish(subscription: Subscription, event_type: str, data: dict):
    """Publish to the endpoint's owner; (the subscription as it is now, the event), or None
    when the subscription was deleted meanwhile."""
    fresh = (
        Subscription.objects.select_related("owner")
        .filter(pk=subscription.pk, deleted_at__isnull=True)
        .first()
    )
    if fresh is None:
        return None
    event = event_publish(owner=fresh.owner, event_type=event_type, data=data, source=SOURCE).event
    logger.info(
        "operational.published",
        extra={"subscription_id": fresh.pk, "event_type": event_type, "event_id": event.public_id},
    )
    return fresh, event


def _email_queue(subscription: Subscription, event: Event) -> None:
    if not settings.OPERATIONAL_EMAILS or not subscription.owner.email:
        return
    from subscriptions.tasks import operational_email_task  # tasks imports this module

    transaction.on_commit(functools.partial(operational_email_task.delay, event.pk))


# --- Rate-limit state -------------------------------------------------------------------------


def _key(subscription: Subscription, name: str) -> str:
    return f"operational:{subscription.pk}:{subscription.created_at.timestamp():.6f}:{name}"


def _window_take(subscription: Subscription, event_type: str) -> bool:
    """True for the first caller of the window for this endpoint and type."""
    return cache.add(
        _key(subscription, f"window:{event_type}"),
        1,
        timeout=settings.OPERATIONAL_EVENT_WINDOW_SECONDS,
    )


def _counter_add(key: str, amount: int) -> None:
    retention = settings.DELIVERY_RETENTION.total_seconds()  # what it counts is gone by then
    cache.add(key, 0, timeout=retention)
    try:
        cache.incr(key, amount)
    except ValueError:  # expired between the two calls
        cache.set(key, amount, timeout=retention)


# --- Payloads and emails ----------------------------------------------------------------------


def _endpoint(subscription: Subscription) -> dict:
    return {"endpoint_id": subscription.pk, "url": subscription.url}


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def operational_email_send(*, event_id: int) -> bool:
    """Email the owner about one operational event (`endpoint.disabled` or
    `delivery.exhausted`); False when there is nothing to send: emails are off, the owner has
    no address, the event is gone or of another type, or its email went out already."""
    event = (
        Event.objects.select_related("owner")
        .filter(pk=event_id, source=SOURCE, event_type__in=[ENDPOINT_DISABLED, DELIVERY_EXHAUSTED])
        .first()
    )
    if event is None or not settings.OPERATIONAL_EMAILS or not event.owner.email:
        return False
    # A task may run twice; an event's id is never reused, so this key is its own.
    if not cache.add(f"operational:emailed:{event.public_id}", 1, timeout=24 * 3600):
        return False
    subject, body = _email_text(event)
    send_mail(subject, body, None, [event.owner.email])
    logger.info(
        "operational.emailed", extra={"event_id": event.public_id, "event_type": event.event_type}
    )
    return True


def _email_text(event: Event) -> tuple[str, str]:
    data = event.data
    endpoint = f"{data['url']} (id {data['endpoint_id']})"
    recover = f"POST /api/webhooks/{data['endpoint_id']}/recover"
    if event.event_type == ENDPOINT_DISABLED:
        return (
            f"Webhook endpoint disabled: {data['url']}",
            f"Your webhook endpoint {endpoint} was disabled: {data['reason']}\n\n"
            "Nothing more is sent to it, and what it still owed has failed. Once it works "
            f"again, enable it (PATCH /api/webhooks/{data['endpoint_id']} with "
            f'{{"is_active": true}}) and re-send what it missed with {recover}.\n',
        )
    status = data["last_status_code"] or data["last_error"] or "no answer"
    deliveries = "1 delivery" if data["count"] == 1 else f"{data['count']} deliveries"
    return (
        f"Webhook deliveries failed: {data['url']}",
        f"{deliveries} to your webhook endpoint {endpoint} failed for good since the last "
        "notice.\n\n"
        f"The latest: delivery {data['delivery_id']} of event {data['event_id']} "
        f"({data['event_type']}), after {data['attempts']} attempts; last answer: {status}.\n\n"
        f"List them with GET /api/webhooks/{data['endpoint_id']}/deliveries?status=failed and "
        f"re-send them with {recover}.\n",
    )
