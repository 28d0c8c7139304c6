"""Qualia Marketplace projections: activities as they arrive, messages as fetched."""

from django.db import models
from django.db.models import Q


class Activity(models.Model):
    """A Qualia Marketplace activity notification."""

    account = models.ForeignKey(
        "channels_app.ChannelAccount",
        on_delete=models.CASCADE,
        related_name="activities",
        help_text="Account.",
    )
    inbound_event = models.OneToOneField(
        "channels_app.InboundEvent",
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


class Message(models.Model):
    """A Qualia message, fetched from Qualia's API after its `message` activity arrived."""

    account = models.ForeignKey(
        "channels_app.ChannelAccount",
        on_delete=models.CASCADE,
        related_name="messages",
        help_text="Account.",
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
