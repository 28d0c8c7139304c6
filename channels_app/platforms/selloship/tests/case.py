"""Selloship's requests as Selloship sends them: account, event id and prefixed HMAC headers."""

from channels_app.models import ChannelAccount
from channels_app.platforms.selloship.platform import selloship_signature
from channels_app.testing import WebhookCase

ACCOUNT_ID = "seller-42"
SECRET = "ss-secret"


class SelloshipWebhook(WebhookCase):
    platform = "selloship"

    def account_create(self, owner) -> ChannelAccount:
        return ChannelAccount.objects.create(
            owner=owner, platform="selloship", name="Selloship", external_id=ACCOUNT_ID,
            secret=SECRET,
        )  # fmt: skip

    def signed_headers(
        self, body: bytes, event_id: str | None = None, *, secret: str = SECRET,
        account_id: str = ACCOUNT_ID,
    ) -> dict[str, str]:  # fmt: skip
        headers = {
            "X-Selloship-Account": account_id,
            "X-Selloship-Signature": selloship_signature(secret, body),
        }
        if event_id is not None:
            headers["X-Selloship-Event-Id"] = event_id
        return headers


selloship = SelloshipWebhook()
