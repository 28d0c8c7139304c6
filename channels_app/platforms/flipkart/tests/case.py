"""Flipkart's requests as Flipkart sends them: FKLOGIN over the date, URL and method, in
`X_Date` and `X_Authorization` headers (underscores, which gunicorn passes on)."""

import time
from email.utils import formatdate

from channels_app.models import ChannelAccount
from channels_app.platforms.flipkart.platform import fklogin_authorization, flipkart_signature
from channels_app.testing import WebhookCase

APP_ID = "fk-app-1"
SECRET = "fk-app-secret"
URL = "http://testserver/webhooks/flipkart"


def http_date(offset_seconds: float = 0) -> str:
    return formatdate(time.time() + offset_seconds, usegmt=True)


class FlipkartWebhook(WebhookCase):
    platform = "flipkart"

    def account_create(self, owner) -> ChannelAccount:
        return ChannelAccount.objects.create(
            owner=owner, platform="flipkart", name="Flipkart seller", external_id=APP_ID,
            secret=SECRET,
        )  # fmt: skip

    def signed_headers(
        self, body: bytes = b"", url: str = URL, *, date: str | None = None,
        secret: str = SECRET, app_id: str = APP_ID,
    ) -> dict[str, str]:  # fmt: skip
        date = date or http_date()
        signature = flipkart_signature(date=date, url=url, method="POST", secret=secret)
        return {
            "X_Date": date,
            "X_Authorization": fklogin_authorization(app_id=app_id, signature=signature),
        }


flipkart = FlipkartWebhook()
