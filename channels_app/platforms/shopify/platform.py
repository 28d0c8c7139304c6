"""Shopify: `POST /webhooks/shopify[/<topic>]`, HMAC-signed with the app's secret.

`X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body; the shop is
`X-Shopify-Shop-Domain`, the topic `X-Shopify-Topic` (or the path), and
`X-Shopify-Webhook-Id` is the same on Shopify's retries, so it is the dedupe key.

A topic we cannot route is stored and then failed with the reason, never ignored: none at all
(no header, no path), a repeated header, which WSGI servers join with commas
(`orders/create,orders/create`; no Shopify topic holds a comma), or a header and a URL
(`/webhooks/shopify/<topic>`) that name different topics. The payload is the header's topic,
the subscription was made for the URL's: one of them is misconfigured, and guessing would
project an order from a product, or drop it. These are failed rows, not 4xx answers, because
Shopify retries a non-2xx delivery 8 times over 4 hours and then deletes a subscription made
through the Admin API (shopify.dev/changelog/updates-to-webhook-retry-mechanism): a retry
carries the same headers, so it cannot clear, and the deleted subscription would lose every
later event. The row is stored under the URL's topic; the header is kept with its headers.
"""

import base64
import hashlib
import hmac

from django.conf import settings

from channels_app.models import ChannelAccount
from channels_app.platforms.base import TOPIC_LENGTH, Platform, Unauthorized, Unprocessable
from channels_app.platforms.shopify import handlers
from channels_app.selectors import active_account
from channels_app.services import environment_account
from webhooks.signing import constant_time_equal

PLATFORM = "shopify"
TOPIC_HEADER = "X-Shopify-Topic"


def shopify_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def topic_problem(topic: str, header: str = "") -> str | None:
    """Why a row stored under `topic` with `header` as its X-Shopify-Topic cannot be routed."""
    if not topic:
        return "No topic: the X-Shopify-Topic header is missing and the URL names none."
    for sent in (header, topic):
        if "," in sent:
            return f"X-Shopify-Topic was sent more than once ({sent!r}): which one is meant?"
    if len(header) > TOPIC_LENGTH:
        return f"X-Shopify-Topic is {len(header)} characters long: no Shopify topic is."
    if header and header != topic:
        return (
            f"X-Shopify-Topic is {header!r} but the URL names {topic!r}: the payload is one, "
            "the subscription was made for the other; which one is meant?"
        )
    return None


class Shopify(Platform):
    name = PLATFORM

    def rate_limit_key(self, request) -> str:
        return request.headers.get("X-Shopify-Shop-Domain", "")

    def authenticate(self, request, body) -> ChannelAccount:
        shop = request.headers.get("X-Shopify-Shop-Domain", "")
        signature = request.headers.get("X-Shopify-Hmac-Sha256", "")
        if not shop or not signature:
            raise Unauthorized("X-Shopify-Shop-Domain and X-Shopify-Hmac-Sha256 are required.")
        account = active_account(platform=PLATFORM, external_id=shop)
        from_environment = account is None or account.from_environment
        secret = settings.SHOPIFY_WEBHOOK_SECRET if from_environment else account.secret
        if not secret or not constant_time_equal(shopify_hmac(secret, body), signature):
            raise Unauthorized("Invalid signature.")
        if from_environment:  # the environment's secret is the truth for its accounts
            account = environment_account(platform=PLATFORM, external_id=shop, secret=secret)
        return account

    def describe(self, request, payload, body):
        # The URL's topic first; a header that differs fails the row (module docstring).
        topic = request.resolver_match.kwargs.get("topic") or request.headers.get(TOPIC_HEADER, "")
        external_id = (
            request.headers.get("X-Shopify-Webhook-Id") or hashlib.sha256(body).hexdigest()
        )
        return topic, external_id

    def process(self, event, payload) -> bool:
        if problem := topic_problem(event.topic, event.headers.get(TOPIC_HEADER, "")):
            raise Unprocessable(problem)
        handler = handlers.TOPICS.get(event.topic)
        if handler is None:
            return False  # stored and marked ignored, not an error
        handler(event, payload)
        return True
