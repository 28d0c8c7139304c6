"""Qualia's requests as Qualia sends them: HTTP Basic auth to /webhook/activity."""

import base64

from django.contrib.auth.hashers import make_password

from channels_app.models import ChannelAccount
from channels_app.testing import WebhookCase

USERNAME = "acme"
PASSWORD = "qualia-webhook-password"


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class QualiaWebhook(WebhookCase):
    platform = "qualia"
    path = "/webhook/activity"

    def account_create(self, owner, **fields) -> ChannelAccount:
        return ChannelAccount.objects.create(
            owner=owner, platform="qualia", name="Acme title", external_id=USERNAME,
            password_hash=make_password(PASSWORD), **fields,
        )  # fmt: skip

    def signed_headers(self, body: bytes, auth: str = "") -> dict[str, str]:
        return {"Authorization": auth or basic(USERNAME, PASSWORD)}


qualia = QualiaWebhook()
