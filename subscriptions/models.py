"""Outbound state, split by what repeats: a subscription, one delivery per (event, subscription),
one attempt per HTTP try. The database owns every bit of state a retry depends on."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from webhooks.encryption import EncryptedJSONField, EncryptedTextField
from webhooks.models import Event

DEFAULT_RETRY_COUNT = 17
MAX_RETRY_COUNT = 20
DEFAULT_TIMEOUT_SECONDS = 10
MAX_TIMEOUT_SECONDS = 60
DEFAULT_MAX_IN_FLIGHT = 10
MAX_MAX_IN_FLIGHT = 1000
MAX_RATE_LIMIT_PER_SECOND = 10000


class Subscription(models.Model):
    """An endpoint URL that receives the owner's events of the chosen types."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="subscriptions",
        help_text="Only this user's events are sent here.",
    )
    url = models.URLField(max_length=2048, help_text="Where events are POSTed.")
    event_types = models.JSONField(
        help_text="Catalog types to receive; '*' for all, or a prefix wildcard like 'task.*'."
    )
    channels = models.JSONField(
        default=list,
        blank=True,
        help_text="Receive only events on one of these channels (e.g. one Shopify shop); "
        "empty: events on any channel or none.",
    )
    filter = models.JSONField(
        null=True,
        blank=True,
        help_text="Payload filter (subscriptions.filters), e.g. "
        '{"data.status": "paid"}; empty: every event of its types.',
    )
    filter_path = models.TextField(
        blank=True,
        default="",
        help_text="The filter compiled to an SQL/JSON path predicate, which fan-out runs.",
    )
    headers = EncryptedJSONField(
        default=dict,
        blank=True,
        help_text="Custom request headers ({name: value}, e.g. Authorization), encrypted at "
        "rest, redacted in attempt logs.",
    )
    description = models.CharField(max_length=500, blank=True, default="", help_text="Free text.")
    is_active = models.BooleanField(default=True, help_text="Inactive subscriptions get nothing.")
    retry_count = models.PositiveSmallIntegerField(
        default=DEFAULT_RETRY_COUNT, help_text="Retries after the first attempt (0 to 20)."
    )
    timeout_seconds = models.PositiveSmallIntegerField(
        default=DEFAULT_TIMEOUT_SECONDS, help_text="Per-attempt HTTP timeout (1 to 60 s)."
    )
    max_in_flight = models.PositiveSmallIntegerField(
        default=DEFAULT_MAX_IN_FLIGHT,
        help_text=(
            "Most requests open to this endpoint at once, across every worker (1 to 1000). "
            "1 means ordered delivery: one at a time, in creation order, a retry holding "
            "back later events."
        ),
    )
    rate_limit_per_second = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Most requests started per second, across every worker; empty: no limit.",
    )
    throttled_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Rate limit: no request starts before this time (kept by the engine).",
    )
    secret = EncryptedTextField(help_text="Signing secret (whsec_…), encrypted at rest.")
    previous_secret = EncryptedTextField(
        null=True, blank=True, help_text="The secret before the last rotation, still signing."
    )
    previous_secret_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="When the previous secret stops signing."
    )
    disabled_reason = models.CharField(
        max_length=500, blank=True, default="", help_text="Why it was disabled, if it was."
    )
    consecutive_failures = models.PositiveIntegerField(
        default=0, help_text="Failed attempts in a row; opens the circuit breaker."
    )
    paused_until = models.DateTimeField(
        null=True, blank=True, help_text="Circuit open: no attempts before this time."
    )
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="First failure of the current failing streak."
    )
    deleted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Deleted through the API: hidden, sends nothing; history kept until retention.",
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="Created.")
    updated_at = models.DateTimeField(auto_now=True, help_text="Last changed.")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(retry_count__lte=MAX_RETRY_COUNT), name="subscription_retry_count_range"
            ),
            models.CheckConstraint(
                condition=Q(timeout_seconds__gte=1, timeout_seconds__lte=MAX_TIMEOUT_SECONDS),
                name="subscription_timeout_range",
            ),
            models.CheckConstraint(
                condition=Q(max_in_flight__gte=1, max_in_flight__lte=MAX_MAX_IN_FLIGHT),
                name="subscription_max_in_flight_range",
            ),
            models.CheckConstraint(
                condition=Q(rate_limit_per_second__isnull=True)
                | Q(
                    rate_limit_per_second__gte=1,
                    rate_limit_per_second__lte=MAX_RATE_LIMIT_PER_SECOND,
                ),
                name="subscription_rate_limit_range",
            ),
        ]
        indexes = [models.Index(fields=["owner", "is_active"], name="subscription_owner_active")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.url}"


class Delivery(models.Model):
    """One event owed to one subscription, from first attempt to a final status."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERING = "delivering", "Delivering"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="deliveries", help_text="What is sent."
    )
    subscription = models.ForeignKey(
        Subscription,
        on_delete=models.CASCADE,
        related_name="deliveries",
        help_text="Where it is sent.",
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PENDING, help_text="Lifecycle state."
    )
    attempt_count = models.PositiveSmallIntegerField(default=0, help_text="HTTP attempts made.")
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When a pending delivery is due (the database's timer)."
    )
    claimed_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A delivering row past this time was stranded by a dead worker.",
    )
    last_status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="HTTP status of the last attempt."
    )
    last_error = models.CharField(
        max_length=500, blank=True, default="", help_text="Error of the last attempt."
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="Created with the event.")
    updated_at = models.DateTimeField(auto_now=True, help_text="Last state change.")
    completed_at = models.DateTimeField(
        null=True, blank=True, help_text="When it succeeded, failed or was cancelled."
    )

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "subscription"], name="delivery_event_sub")
        ]
        indexes = [
            # The due-work query: pending rows of one endpoint in the order they are sent;
            # a claim reads only the first few of an endpoint's backlog, however long it is.
            models.Index(
                fields=["subscription", "next_attempt_at", "id"],
                condition=Q(status="pending"),
                name="delivery_due",
            ),
            models.Index(
                fields=["next_attempt_at"], condition=Q(status="pending"), name="delivery_due_all"
            ),
            # Unfinished rows of one endpoint in creation order: the head of an ordered
            # endpoint's queue.
            models.Index(
                fields=["subscription", "created_at", "id"],
                condition=Q(status__in=["pending", "delivering"]),
                name="delivery_unfinished",
            ),
            # An endpoint's requests in flight (a claim counts them), and stranded rows:
            # delivering past their claim.
            models.Index(
                fields=["subscription", "claimed_until"],
                condition=Q(status="delivering"),
                name="delivery_in_flight",
            ),
            models.Index(fields=["subscription", "-created_at"], name="delivery_sub_recent"),
            models.Index(fields=["created_at"], name="delivery_created"),
        ]

    def __str__(self) -> str:
        return f"delivery #{self.pk} ({self.status})"


class DeliveryAttempt(models.Model):
    """One HTTP try of a delivery, as sent and as answered."""

    class ErrorKind(models.TextChoices):
        NONE = "", "None"
        TIMEOUT = "timeout", "Timeout"
        CONNECTION = "connection", "Connection error"
        FORBIDDEN_ADDRESS = "forbidden_address", "Forbidden address"
        HTTP = "http", "HTTP error status"
        REDIRECT = "redirect", "Redirect (not followed)"

    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempts", help_text="The delivery."
    )
    number = models.PositiveSmallIntegerField(help_text="1 for the first attempt.")
    started_at = models.DateTimeField(help_text="When the request was sent.")
    duration_ms = models.PositiveIntegerField(help_text="Until the response or the error.")
    request_url = models.URLField(max_length=2048, help_text="Where it was sent.")
    request_headers = models.JSONField(help_text="Headers sent, signatures redacted.")
    response_status = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="HTTP status, if one came back."
    )
    response_headers = models.JSONField(default=dict, help_text="Headers received.")
    response_body = models.TextField(blank=True, default="", help_text="First 4 KB of the body.")
    error_kind = models.CharField(
        max_length=20, choices=ErrorKind.choices, blank=True, default="", help_text="Error class."
    )
    error_message = models.CharField(
        max_length=500, blank=True, default="", help_text="What went wrong."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="attempt_delivery_number")
        ]
        indexes = [models.Index(fields=["started_at"], name="attempt_started")]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery #{self.delivery_id}"
