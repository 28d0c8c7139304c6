"""Stripe: `POST /webhooks/stripe`, signed per https://docs.stripe.com/webhooks#verify-manually.

`Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]` where each v1 is the hex HMAC-SHA256 of
`"<t>.<raw body>"` with the endpoint secret; any v1 may match (Stripe sends several while a
secret is being rolled), and `t` must be within five minutes. Each account's secret is tried,
then STRIPE_WEBHOOK_SECRET as the single-tenant default.
"""

import hashlib
import hmac
import time
from functools import partial

from django.conf import settings

from channels_app.models import ChannelAccount
from channels_app.platforms.base import (
    TOPIC_LENGTH,
    Platform,
    Problem,
    Unauthorized,
    field_problems,
)
from channels_app.platforms.stripe import handlers
from channels_app.selectors import active_accounts
from channels_app.services import environment_account
from webhooks.signing import constant_time_equal
from webhooks.untrusted import Fields, MalformedInput, ascii_int

PLATFORM = "stripe"
TOLERANCE_SECONDS = 300


def stripe_signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def parse_header(header: str) -> tuple[int, list[str]]:
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = ascii_int(value)
            except MalformedInput as exc:
                raise Unauthorized(f"Stripe-Signature t= must be a Unix time: {exc}") from None
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise Unauthorized("Stripe-Signature needs t= and at least one v1=.")
    return timestamp, signatures


class Stripe(Platform):
    name = PLATFORM

    def authenticate(self, request, body) -> ChannelAccount:
        timestamp, signatures = parse_header(request.headers.get("Stripe-Signature", ""))
        if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
            raise Unauthorized("Stripe-Signature timestamp is outside the tolerance.")
        # An account from the environment verifies with the environment's secret, not a copy.
        candidates = [
            (account, account.secret)
            for account in active_accounts(platform=PLATFORM)
            if not account.from_environment
        ]
        if settings.STRIPE_WEBHOOK_SECRET:
            candidates.append((None, settings.STRIPE_WEBHOOK_SECRET))
        for account, secret in candidates:
            expected = stripe_signature(secret, timestamp, body)
            if any(constant_time_equal(expected, offered) for offered in signatures):
                return account or self._default_account(secret)
        raise Unauthorized("No signature matches.")

    def _default_account(self, secret: str) -> ChannelAccount:
        return environment_account(platform=PLATFORM, external_id="default", secret=secret)

    def validate(self, payload) -> list[Problem]:
        if not isinstance(payload, dict):
            return [Problem(("body",), "expected an event object", "type_error")]
        problems = [
            Problem(("body", field), "field required", "value_error.missing")
            for field in ("id", "type", "data")
            if field not in payload
        ]
        data = payload.get("data")
        if "data" in payload and not (
            isinstance(data, dict) and isinstance(data.get("object"), dict)
        ):
            problems.append(Problem(("body", "data", "object"), "expected an object", "type_error"))
        # The id is the dedupe key and the type the topic: a signed `"id": 12` is refused here,
        # not stored as something else. Stripe never sends one, so no retry is lost.
        fields = Fields(payload)
        return problems + field_problems(
            *(
                partial(fields.text, name, max_length=limit, required=True)
                for name, limit in (("id", None), ("type", TOPIC_LENGTH))
                if name in payload
            )
        )

    def describe(self, request, payload, body):
        return payload["type"], payload["id"]

    def process(self, event, payload) -> bool:
        handler = handlers.TYPES.get(event.topic)
        if handler is None:
            return False
        handler(event, payload)
        return True
