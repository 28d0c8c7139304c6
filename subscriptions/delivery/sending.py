"""Turning a claimed delivery into a signed request, and its answer into an attempt row."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from subscriptions.delivery import wire
from subscriptions.models import Delivery, DeliveryAttempt, Subscription
from webhooks.http import client, concurrent
from webhooks.http.result import SendResult
from webhooks.tracing import tracing_within


def active_secrets(subscription: Subscription, now: datetime) -> list[str]:
    """The current secret first, then the previous one while its grace period lasts."""
    secrets = [subscription.secret]
    if subscription.previous_secret and (
        subscription.previous_secret_expires_at and subscription.previous_secret_expires_at > now
    ):
        secrets.append(subscription.previous_secret)
    return secrets


@dataclass
class Sending:
    """One request on its way: what was sent, so its attempt can be recorded."""

    delivery: Delivery
    subscription: Subscription
    headers: dict[str, str]
    started_at: datetime

    def attempt(self, result: SendResult) -> DeliveryAttempt:
        return DeliveryAttempt(
            delivery=self.delivery,
            number=self.delivery.attempt_count + 1,
            started_at=self.started_at,
            duration_ms=result.duration_ms,
            request_url=self.subscription.url,
            request_headers=wire.redacted(self.headers, custom=self.subscription.headers),
            response_status=result.status_code,
            response_headers=result.headers,
            response_body=result.body_head,
            error_kind=result.error_kind,
            error_message=result.error_message,
        )


def _send(delivery: Delivery, subscription: Subscription, post):
    """Sign `delivery` as of now and hand it to `post`; returns what was sent and what
    `post` returned (a SendResult, or a future of one)."""
    now = timezone.now()
    body = wire.payload_body(delivery.event)
    headers = wire.request_headers(
        custom=subscription.headers,
        signed=wire.signed_headers(
            event=delivery.event, body=body, secrets=active_secrets(subscription, now)
        ),
    )
    if delivery.event.traceparent is not None:
        # Sent by a pump that claimed it from the database: join the publish's trace.
        post = tracing_within(delivery.event.traceparent, post)
    answer = post(
        subscription.url, body=body, headers=headers, timeout_seconds=subscription.timeout_seconds
    )
    return Sending(delivery, subscription, headers, now), answer


def delivery_send_now(*, delivery: Delivery, subscription: Subscription):
    """Sign and POST one delivery, blocking; returns what was sent and the SendResult."""
    return _send(delivery, subscription, client.post)


def delivery_send_start(*, delivery: Delivery, pool: concurrent.ConcurrentClient):
    """Sign one claimed delivery and start its POST; returns what is sent and its future."""
    return _send(delivery, delivery.subscription, pool.post)


def pool() -> concurrent.ConcurrentClient:
    """This process's concurrent client for deliveries."""
    return concurrent.client(
        max_connections=settings.DELIVERY_CONCURRENCY,
        allow_private=settings.WEBHOOKS_ALLOW_PRIVATE_URLS,
        user_agent=settings.WEBHOOKS_USER_AGENT,
    )
