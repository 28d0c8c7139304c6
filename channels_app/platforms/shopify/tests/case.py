"""Shopify's requests as Shopify sends them: the body's base64 HMAC-SHA256 and topic headers."""

import uuid

from channels_app.models import ChannelAccount
from channels_app.platforms.shopify.platform import shopify_hmac
from channels_app.testing import WebhookCase

SECRET = "shpss_test_app_secret"
SHOP = "example.myshopify.com"


class ShopifyWebhook(WebhookCase):
    platform = "shopify"

    def account_create(self, owner) -> ChannelAccount:
        return ChannelAccount.objects.create(
            owner=owner, platform="shopify", name="Example", external_id=SHOP, secret=SECRET
        )

    def signed_headers(
        self, body: bytes, topic: str = "orders/create", webhook_id: str = "", secret: str = SECRET
    ) -> dict[str, str]:
        return {
            "X-Shopify-Hmac-Sha256": shopify_hmac(secret, body),
            "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-Topic": topic,
            "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        }


shopify = ShopifyWebhook()
