"""Inbound state every platform shares: who may post to us and every request we accepted.

What the requests projected into lives with the code that writes it: orders in
`channels_app.commerce`, everything else in its platform's package (same app, same tables).
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from webhooks.encryption import EncryptedTextField


def new_receive_key() -> str:
    return secrets.token_urlsafe(24)


class ChannelAccount(models.Model):
    """One account on an external platform whose webhooks we receive for `owner`."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="channel_accounts",
        help_text="Whose subscriptions receive the internal events this account produces.",
    )
    platform = models.CharField(max_length=50, help_text="qualia, shopify, stripe, …")
    name = models.CharField(max_length=200, help_text="A name for people.")
    external_id = models.CharField(
        max_length=255,
        help_text="The platform's id for it: Shopify shop domain, Qualia username, Stripe account.",
    )
    secret = EncryptedTextField(
        blank=True, default="", help_text="Webhook signing secret, encrypted at rest."
    )
    api_token = EncryptedTextField(
        blank=True,
        default="",
        help_text="Credentials for the platform's own API (Qualia GraphQL), encrypted at rest.",
    )
    password_hash = models.CharField(
        max_length=255,
        blank=True,
        default="",
        help_text="HTTP Basic password (Qualia), stored as a Django password hash.",
    )
    from_environment = models.BooleanField(
        default=False,
        help_text="Made from WEBHOOK_USERNAME/PASSWORD, SHOPIFY_ or STRIPE_WEBHOOK_SECRET: the "
        "environment, not this row, holds its secret or password.",
    )
    verification = models.CharField(
        max_length=20,
        choices=[
            ("", "The platform's own scheme"),
            ("standard_webhooks", "Standard Webhooks headers"),
            ("hmac_sha256", "Hex HMAC-SHA256 of the body in a named header"),
        ],
        blank=True,
        default="",
        help_text="For a source without a receiver of its own: how its requests are verified.",
    )
    signature_header = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text="For `hmac_sha256` verification: the header carrying the hex signature.",
    )
    is_active = models.BooleanField(default=True, help_text="Inactive accounts are refused (401).")
    receive_key = models.CharField(
        max_length=64,
        unique=True,
        default=new_receive_key,
        editable=False,
        help_text="Unguessable key identifying this account in receiver URLs.",
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="Created.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"], name="channel_account_platform_external_id"
            )
        ]

    def __str__(self) -> str:
        return self.channel

    @property
    def channel(self) -> str:
        """The channel its events are published on: a subscription can ask for only these."""
        return f"{self.platform}:{self.external_id}"


class InboundEvent(models.Model):
    """One accepted webhook request, stored before we answered 200: the raw log."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"
        DEAD = "dead", "Dead"
        IGNORED = "ignored", "Ignored"

    platform = models.CharField(max_length=50, help_text="Which receiver took it.")
    account = models.ForeignKey(
        ChannelAccount,
        on_delete=models.CASCADE,
        related_name="inbound_events",
        help_text="The authenticated account.",
    )
    topic = models.CharField(max_length=100, help_text="The platform's topic or event type.")
    external_id = models.CharField(
        max_length=255,
        help_text="The platform's delivery or event id, else the body's SHA-256: the dedupe key.",
    )
    body = models.BinaryField(help_text="The raw request body, exactly as received.")
    headers = models.JSONField(help_text="Request headers, credentials removed.")
    remote_addr = models.GenericIPAddressField(null=True, blank=True, help_text="Sender address.")
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.RECEIVED,
        help_text="received → processed or ignored; failed waits for its next attempt; dead "
        "gave up (after the last retry, or an error no retry clears) and waits for a reprocess.",
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Processing attempts.")
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When a failed row is tried again (the sweep owns it)."
    )
    error = models.TextField(blank=True, default="", help_text="Last processing error.")
    traceback = models.TextField(blank=True, default="", help_text="Its traceback.")
    received_at = models.DateTimeField(auto_now_add=True, help_text="When it was stored.")
    processed_at = models.DateTimeField(null=True, blank=True, help_text="When it was processed.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "account", "external_id"], name="inbound_event_dedupe"
            )
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbound_status_received"),
            models.Index(
                fields=["next_attempt_at"], condition=Q(status="failed"), name="inbound_retry_due"
            ),
            models.Index(fields=["account", "-received_at"], name="inbound_account_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.platform} {self.topic} #{self.pk}"


class ProducedEvent(models.Model):
    """An internal event an inbound request produced: the lineage that answers "what did this
    webhook cause, and did every subscriber get it" from either end."""

    inbound_event = models.ForeignKey(
        InboundEvent,
        on_delete=models.CASCADE,
        related_name="produced",
        help_text="The request that caused it.",
    )
    event = models.OneToOneField(
        "webhooks.Event",
        on_delete=models.CASCADE,
        related_name="inbound_cause",
        help_text="The internal event it caused (its deliveries hang off it).",
    )

    def __str__(self) -> str:
        return f"{self.inbound_event} → {self.event_id}"


# Imported last so that Django finds the projections as models of this app; they refer to the
# models above by name, so nothing here is imported back.
from channels_app.commerce import models as commerce_models  # noqa: E402, F401
from channels_app.platforms import platform_modules  # noqa: E402

platform_modules("models")
