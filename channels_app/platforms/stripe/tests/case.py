"""Stripe's requests as Stripe sends them: `Stripe-Signature: t=<unix>,v1=<hex HMAC>`."""

import time

from channels_app.models import ChannelAccount
from channels_app.platforms.stripe.platform import stripe_signature
from channels_app.testing import WebhookCase

SECRET = "whsec_stripe_endpoint_secret"


def header_for(body: bytes, *, secret: str = SECRET, at: int | None = None, extra: str = ""):
    at = int(time.time()) if at is None else at
    return f"t={at},v1={stripe_signature(secret, at, body)}{extra}"


class StripeWebhook(WebhookCase):
    platform = "stripe"

    def account_create(self, owner) -> ChannelAccount:
        return ChannelAccount.objects.create(
            owner=owner, platform="stripe", name="Stripe", external_id="acct_1", secret=SECRET
        )

    def signed_headers(self, body: bytes, **options) -> dict[str, str]:
        return {"Stripe-Signature": header_for(body, **options)}


stripe = StripeWebhook()
