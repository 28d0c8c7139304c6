"""Inbound state: who may post to us, every request we accepted, and what it projected into."""

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


class Activity(models.Model):
    """A Qualia Marketplace activity notification."""

    account = models.ForeignKey(
        ChannelAccount, on_delete=models.CASCADE, related_name="activities", help_text="Account."
    )
    inbound_event = models.OneToOneField(
        InboundEvent,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text="The request it came from (empty once retention deleted it).",
    )
    order_id = models.CharField(max_length=100, db_index=True, help_text="Qualia order id.")
    activity_type = models.CharField(max_length=50, help_text="order_request, message, …")
    description = models.TextField(help_text="Qualia's human-readable description.")
    message_id = models.CharField(
        max_length=100, blank=True, default="", help_text="For `message` activities."
    )
    timestamp_ms = models.BigIntegerField(help_text="Received time, Unix milliseconds.")
    received_at = models.DateTimeField(help_text="Received time.")

    class Fetch(models.TextChoices):
        NONE = "", "Nothing to fetch"
        PENDING = "pending", "Pending"
        FETCHED = "fetched", "Fetched"
        DEAD = "dead", "Dead"

    fetch_status = models.CharField(
        max_length=10,
        choices=Fetch.choices,
        blank=True,
        default=Fetch.NONE,
        help_text="A `message` activity's fetch of its message from Qualia's API.",
    )
    fetch_attempts = models.PositiveIntegerField(default=0, help_text="Fetches tried.")
    fetch_next_at = models.DateTimeField(
        null=True, blank=True, help_text="When a pending fetch is tried (the sweep owns it)."
    )
    fetch_error = models.TextField(blank=True, default="", help_text="The last fetch's error.")

    class Meta:
        verbose_name_plural = "activities"
        indexes = [
            models.Index(
                fields=["fetch_next_at"],
                condition=Q(fetch_status="pending"),
                name="activity_fetch_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.activity_type} on {self.order_id}"


class Order(models.Model):
    """An order as the platform last told us about it (projection)."""

    account = models.ForeignKey(
        ChannelAccount, on_delete=models.CASCADE, related_name="orders", help_text="Store."
    )
    external_id = models.CharField(max_length=100, help_text="The platform's order id.")
    name = models.CharField(max_length=100, blank=True, default="", help_text="e.g. #1001.")
    email = models.CharField(max_length=255, blank=True, default="", help_text="Customer email.")
    financial_status = models.CharField(max_length=50, blank=True, default="", help_text="Paid…")
    fulfillment_status = models.CharField(
        max_length=50, blank=True, default="", help_text="Fulfilled, partial, or empty."
    )
    total_price = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Order total."
    )
    currency = models.CharField(max_length=3, blank=True, default="", help_text="ISO currency.")
    cancelled_at = models.DateTimeField(null=True, blank=True, help_text="When cancelled.")
    remote_updated_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The platform's updated_at: an older update never overwrites a newer one.",
    )
    updated_at = models.DateTimeField(auto_now=True, help_text="Last written here.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="order_account_id")
        ]

    def __str__(self) -> str:
        return self.name or self.external_id


class LineItem(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="line_items", help_text="Order."
    )
    external_id = models.CharField(max_length=100, help_text="The platform's line item id.")
    sku = models.CharField(max_length=255, blank=True, default="", help_text="SKU.")
    title = models.CharField(max_length=500, blank=True, default="", help_text="Product title.")
    quantity = models.IntegerField(default=0, help_text="Quantity.")
    price = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Unit price."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "external_id"], name="line_item_order_id")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.title}"


class Payment(models.Model):
    """A payment-side object (payment intent, charge, checkout session, invoice, subscription)
    as the payment platform last described it (projection)."""

    account = models.ForeignKey(
        ChannelAccount, on_delete=models.CASCADE, related_name="payments", help_text="Account."
    )
    external_id = models.CharField(max_length=100, help_text="The platform's object id.")
    kind = models.CharField(max_length=50, help_text="payment_intent, charge, invoice, …")
    status = models.CharField(max_length=50, blank=True, default="", help_text="Its status.")
    amount = models.BigIntegerField(
        null=True, blank=True, help_text="In the currency's minor unit."
    )
    amount_refunded = models.BigIntegerField(default=0, help_text="Refunded, minor unit.")
    currency = models.CharField(max_length=3, blank=True, default="", help_text="ISO currency.")
    customer = models.CharField(max_length=100, blank=True, default="", help_text="Customer id.")
    remote_created = models.BigIntegerField(
        default=0, help_text="The event's `created` (Unix s): an older event never overwrites."
    )
    updated_at = models.DateTimeField(auto_now=True, help_text="Last written here.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="payment_account_id")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id}"


class Message(models.Model):
    """A Qualia message, fetched from Qualia's API after its `message` activity arrived."""

    account = models.ForeignKey(
        ChannelAccount, on_delete=models.CASCADE, related_name="messages", help_text="Account."
    )
    order_id = models.CharField(max_length=100, db_index=True, help_text="Qualia order id.")
    message_id = models.CharField(max_length=100, help_text="Qualia message id.")
    from_name = models.CharField(max_length=255, blank=True, default="", help_text="Sender.")
    text = models.TextField(blank=True, default="", help_text="The message.")
    created_date = models.DateTimeField(null=True, blank=True, help_text="When it was written.")
    read = models.BooleanField(default=False, help_text="Read on Qualia.")
    order_number = models.CharField(max_length=100, blank=True, default="", help_text="Order no.")
    attachments = models.JSONField(default=list, help_text="Attachment objects.")
    stored_at = models.DateTimeField(auto_now=True, help_text="When it was fetched and stored.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "message_id"], name="message_account_id")
        ]

    def __str__(self) -> str:
        return f"message {self.message_id} on {self.order_id}"


class Store(models.Model):
    """A shop installed on a commerce platform (Shopify): uninstalling keeps its data."""

    account = models.OneToOneField(
        ChannelAccount, on_delete=models.CASCADE, related_name="store", help_text="Account."
    )
    installed = models.BooleanField(default=True, help_text="False after app/uninstalled.")
    uninstalled_at = models.DateTimeField(null=True, blank=True, help_text="When uninstalled.")

    def __str__(self) -> str:
        return str(self.account)


class Fulfillment(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="fulfillments", help_text="Order."
    )
    external_id = models.CharField(max_length=100, help_text="The platform's fulfillment id.")
    status = models.CharField(max_length=50, blank=True, default="", help_text="Its status.")
    tracking_number = models.CharField(max_length=255, blank=True, default="", help_text="AWB.")
    tracking_company = models.CharField(
        max_length=255, blank=True, default="", help_text="Carrier."
    )
    tracking_url = models.URLField(max_length=2048, blank=True, default="", help_text="Tracking.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "external_id"], name="fulfillment_order_id")
        ]

    def __str__(self) -> str:
        return f"fulfillment {self.external_id}"


class Refund(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="refunds", help_text="Order."
    )
    external_id = models.CharField(max_length=100, help_text="The platform's refund id.")
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="Refunded total.")
    note = models.TextField(blank=True, default="", help_text="Merchant note.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "external_id"], name="refund_id")]

    def __str__(self) -> str:
        return f"refund {self.external_id}"


class Product(models.Model):
    account = models.ForeignKey(
        ChannelAccount, on_delete=models.CASCADE, related_name="products", help_text="Store."
    )
    external_id = models.CharField(max_length=100, help_text="The platform's product id.")
    title = models.CharField(max_length=500, blank=True, default="", help_text="Title.")
    status = models.CharField(max_length=50, blank=True, default="", help_text="active, …")
    remote_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="An older update never overwrites a newer one."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="product_account_id")
        ]

    def __str__(self) -> str:
        return self.title or self.external_id


class Variant(models.Model):
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="variants", help_text="Product."
    )
    external_id = models.CharField(max_length=100, help_text="The platform's variant id.")
    sku = models.CharField(max_length=255, blank=True, default="", help_text="SKU.")
    price = models.DecimalField(max_digits=14, decimal_places=2, null=True, help_text="Price.")
    inventory_item_id = models.CharField(
        max_length=100, blank=True, default="", db_index=True, help_text="Inventory item."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "external_id"], name="variant_product_id")
        ]

    def __str__(self) -> str:
        return self.sku or self.external_id


class InventoryLevel(models.Model):
    account = models.ForeignKey(
        ChannelAccount, on_delete=models.CASCADE, related_name="inventory", help_text="Store."
    )
    inventory_item_id = models.CharField(max_length=100, help_text="Inventory item.")
    location_id = models.CharField(max_length=100, help_text="Location.")
    available = models.IntegerField(null=True, help_text="Units available.")
    variant = models.ForeignKey(
        Variant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text="The variant stocked, when known (an unknown item is still recorded).",
    )
    remote_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="An older update never overwrites a newer one."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "inventory_item_id", "location_id"], name="inventory_level_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.inventory_item_id}@{self.location_id}"


class Shipment(models.Model):
    """A shipment as the marketplace or carrier last described it (Flipkart, Selloship)."""

    account = models.ForeignKey(
        ChannelAccount, on_delete=models.CASCADE, related_name="shipments", help_text="Account."
    )
    external_id = models.CharField(
        max_length=100, help_text="The platform's shipment id (Flipkart shipmentId, AWB)."
    )
    order = models.ForeignKey(
        Order,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="shipments",
        help_text="The order shipped, when the platform names it.",
    )
    awb = models.CharField(max_length=100, blank=True, default="", help_text="Air waybill.")
    courier = models.CharField(max_length=100, blank=True, default="", help_text="Carrier.")
    status = models.CharField(max_length=50, blank=True, default="", help_text="Latest status.")
    tracking_history = models.JSONField(
        default=list, help_text="Status updates as received, oldest first."
    )
    remote_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="An older update never overwrites a newer one."
    )
    updated_at = models.DateTimeField(auto_now=True, help_text="Last written here.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="shipment_account_id")
        ]

    def __str__(self) -> str:
        return f"shipment {self.external_id}"


class ProcessingReport(models.Model):
    """A finished Amazon SP-API feed or report, with the document to fetch."""

    class Kind(models.TextChoices):
        FEED = "feed", "Feed"
        REPORT = "report", "Report"

    account = models.ForeignKey(
        ChannelAccount, on_delete=models.CASCADE, related_name="reports", help_text="Account."
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, help_text="Feed or report.")
    external_id = models.CharField(max_length=100, help_text="feedId or reportId.")
    type = models.CharField(max_length=100, blank=True, default="", help_text="Feed/report type.")
    processing_status = models.CharField(
        max_length=50, blank=True, default="", help_text="DONE, CANCELLED, FATAL."
    )
    document_id = models.CharField(
        max_length=200, blank=True, default="", help_text="Result or report document id."
    )
    updated_at = models.DateTimeField(auto_now=True, help_text="Last written here.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind", "external_id"], name="processing_report_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id}"


class SnsSubscription(models.Model):
    """An Amazon SNS topic subscription we confirmed (or tried to) for an account."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        FAILED = "failed", "Failed"

    account = models.ForeignKey(
        ChannelAccount,
        on_delete=models.CASCADE,
        related_name="sns_subscriptions",
        help_text="Account whose topic it is.",
    )
    topic_arn = models.CharField(max_length=255, help_text="The SNS topic.")
    subscribe_url = models.URLField(max_length=2048, help_text="The confirmation URL we called.")
    status = models.CharField(max_length=10, choices=Status.choices, help_text="Outcome.")
    error = models.TextField(blank=True, default="", help_text="Why confirming failed.")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When it arrived.")

    class Meta:
        verbose_name = "SNS subscription"

    def __str__(self) -> str:
        return self.topic_arn


class WebhookRegistration(models.Model):
    """One of our receiver's webhook subscriptions on the platform (Shopify Admin API)."""

    account = models.ForeignKey(
        ChannelAccount,
        on_delete=models.CASCADE,
        related_name="registrations",
        help_text="Account registered.",
    )
    topic = models.CharField(max_length=100, help_text="The platform's topic.")
    address = models.URLField(max_length=2048, help_text="Our callback URL it posts to.")
    remote_id = models.CharField(max_length=100, help_text="The platform's subscription id.")
    updated_at = models.DateTimeField(auto_now=True, help_text="Last confirmed.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "topic"], name="registration_topic")
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.topic}"
