from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A Bearer token for the REST API. Only its SHA-256 is stored: it is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text="The user this token acts as.",
    )
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'CI' or 'CRM'.")
    prefix = models.CharField(
        max_length=16, editable=False, help_text="First characters of the token, to recognise it."
    )
    key_hash = models.CharField(
        max_length=64, unique=True, editable=False, help_text="SHA-256 of the token (hex)."
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the token was created.")
    last_used_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Last authenticated request (to a minute)."
    )

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Event(models.Model):
    """Something that happened for an owner, stored once; deliveries fan out from it."""

    public_id = models.CharField(
        max_length=40,
        unique=True,
        editable=False,
        help_text="The id clients see (evt_…): time-ordered, unguessable.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="events",
        help_text="Whose subscriptions receive this event.",
    )
    event_type = models.CharField(max_length=100, help_text="Catalog type, e.g. task.completed.")
    source = models.CharField(
        max_length=50,
        default="api",
        help_text="Where it came from: api, app, or the inbound platform (shopify, stripe, …).",
    )
    data = models.JSONField(help_text="The event's payload, delivered as `data`.")
    channels = models.JSONField(
        default=list,
        blank=True,
        help_text="Where it happened (e.g. shopify:acme.myshopify.com): subscriptions that list "
        "channels receive only events on one of them.",
    )
    # NULL, not "", means "no key": the per-owner unique constraint skips NULLs.
    idempotency_key = models.CharField(  # noqa: DJ001
        max_length=255,
        null=True,
        blank=True,
        help_text="Publishing the same key twice (per owner) returns the first event.",
    )
    created_at = models.DateTimeField(help_text="When the event was published.")
    # NULL when tracing is off: most events have none, and "" would be a value to check.
    traceparent = models.CharField(  # noqa: DJ001
        max_length=55,
        null=True,
        blank=True,
        editable=False,
        help_text="The W3C traceparent of the request or task that published it, when tracing "
        "was on: its deliveries' attempts join that trace.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="event_idempotency_key_unique_per_owner",
            )
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="event_owner_recent"),
            models.Index(fields=["created_at"], name="event_created"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.event_type}"


class BusOutboxEntry(models.Model):
    """An event still owed to the event bus: written in the event's transaction, deleted once
    JetStream has it, so a lost task or a NATS outage delays the publish and never drops it."""

    event = models.OneToOneField(
        Event,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="bus_outbox",
        help_text="The event to publish.",
    )
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Failed publishes so far.")
    next_attempt_at = models.DateTimeField(
        db_index=True, help_text="When the sweep publishes it, if nothing did before."
    )
    last_error = models.TextField(blank=True, default="", help_text="Why the last try failed.")

    class Meta:
        verbose_name_plural = "bus outbox entries"

    def __str__(self) -> str:
        return f"bus outbox {self.event_id}"


class PortalLink(models.Model):
    """A short-lived, single-use URL that logs its user into the portal. Only the token's
    SHA-256 is stored, as for API tokens; `used_at` is set by the one redeem that wins."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="portal_links",
        help_text="The account the link logs in.",
    )
    key_hash = models.CharField(
        max_length=64, unique=True, editable=False, help_text="SHA-256 of the token (hex)."
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the link was made.")
    expires_at = models.DateTimeField(help_text="The link logs nobody in after this time.")
    used_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When it logged in; used once at most."
    )

    def __str__(self) -> str:
        return f"portal link #{self.pk} for user {self.user_id}"
