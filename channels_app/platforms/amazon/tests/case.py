"""Amazon SNS signs inside the body (an RSA signature over the message's fields, with a
certificate URL), so its tests build and sign messages with their own keys (test_amazon.Keys);
the case gives them the stored fixtures."""

from channels_app.testing import WebhookCase


class AmazonWebhook(WebhookCase):
    platform = "amazon"


amazon = AmazonWebhook()
