import json

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from subscriptions import filters
from subscriptions.delivery import wire
from subscriptions.models import (
    MAX_MAX_IN_FLIGHT,
    MAX_RATE_LIMIT_PER_SECOND,
    MAX_RETRY_COUNT,
    MAX_TIMEOUT_SECONDS,
    Delivery,
    DeliveryAttempt,
    Subscription,
)
from subscriptions.services import REPLAY_WINDOW_MAX, subscription_url_problem
from webhooks import catalog
from webhooks.api.json_types import JSONTypes
from webhooks.models import Event
from webhooks.untrusted import aware_time


class EventTypeSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    group = serializers.CharField()
    example = serializers.JSONField()


# What a stored header value reads as after creation; sent back unchanged, it keeps the value.
MASKED_HEADER_VALUE = "********"
MAX_CHANNELS = 50


def _channels_field(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=200),
        max_length=MAX_CHANNELS,
        required=False,
        help_text=help_text,
    )


class SubscriptionSerializer(JSONTypes, serializers.ModelSerializer):
    url = serializers.URLField(max_length=2048)
    event_types = serializers.ListField(child=serializers.CharField(max_length=100), min_length=1)
    channels = _channels_field(
        "Receive only events on one of these channels (e.g. shopify:acme.myshopify.com); "
        "empty or left out: events on any channel."
    )
    filter = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text=(
            "Payload filter on dotted paths of the delivered payload, e.g. "
            '{"data.status": "paid", "data.total": {"$gte": 100}}: equality, $in, $nin, $gt, '
            "$gte, $lt, $lte, $exists, $and, $or. An event it does not match creates no "
            "delivery. null: no filter."
        ),
    )
    headers = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        help_text=(
            'Custom request headers, e.g. {"Authorization": "Bearer …"}: encrypted at rest, '
            f"shown as {MASKED_HEADER_VALUE} after creation (send that back to keep a value), "
            "redacted in attempt logs. Signature, webhook-*, Content-Type, Host and hop-by-hop "
            "headers cannot be set."
        ),
    )
    retry_count = serializers.IntegerField(min_value=0, max_value=MAX_RETRY_COUNT, required=False)
    timeout_seconds = serializers.IntegerField(
        min_value=1, max_value=MAX_TIMEOUT_SECONDS, required=False
    )
    max_in_flight = serializers.IntegerField(
        min_value=1,
        max_value=MAX_MAX_IN_FLIGHT,
        required=False,
        help_text=(
            "Most requests open to the endpoint at once (default 10). 1 is ordered delivery: "
            "one at a time in creation order, a retry holding back later events."
        ),
    )
    rate_limit_per_second = serializers.IntegerField(
        min_value=1,
        max_value=MAX_RATE_LIMIT_PER_SECOND,
        required=False,
        allow_null=True,
        help_text="Most requests started per second; null for no limit.",
    )

    class Meta:
        model = Subscription
        fields = [
            "id", "url", "event_types", "channels", "filter", "headers", "description", "is_active",
            "retry_count", "timeout_seconds", "max_in_flight", "rate_limit_per_second",
            "disabled_reason", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "disabled_reason", "created_at", "updated_at"]

    def validate_url(self, value: str) -> str:
        problem = subscription_url_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate_event_types(self, value: list[str]) -> list[str]:
        owner = self.context.get("owner")
        unknown = [p for p in value if not catalog.is_valid_pattern(p, owner)]
        if unknown:
            raise serializers.ValidationError(f"Unknown event types: {', '.join(unknown)}.")
        return list(dict.fromkeys(value))

    def validate_channels(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    def validate_filter(self, value):
        if value in (None, {}):
            return None
        problem = filters.filter_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate_headers(self, value: dict[str, str]) -> dict[str, str]:
        stored = self.instance.headers if self.instance is not None else {}
        value = {
            name: stored[name] if given == MASKED_HEADER_VALUE and name in stored else given
            for name, given in value.items()
        }
        problem = wire.custom_headers_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["headers"] = self.headers_shown(instance.headers)
        return data

    def headers_shown(self, headers: dict[str, str]) -> dict[str, str]:
        return dict.fromkeys(headers, MASKED_HEADER_VALUE)


class SubscriptionCreatedSerializer(SubscriptionSerializer):
    """The answer to a create: the only time the secret and the headers' values are shown."""

    secret = serializers.CharField(read_only=True, help_text="Shown only in this response.")

    def headers_shown(self, headers: dict[str, str]) -> dict[str, str]:
        return headers

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The new secret, shown only in this response.")
    previous_secret_expires_at = serializers.DateTimeField()


class TestSendSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    status_code = serializers.IntegerField(allow_null=True)
    response_time_ms = serializers.IntegerField()
    error = serializers.CharField(allow_null=True)
    delivery_id = serializers.IntegerField(source="delivery.pk")


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = [
            "number", "started_at", "duration_ms", "request_url", "request_headers",
            "response_status", "response_headers", "response_body", "error_kind", "error_message",
        ]  # fmt: skip


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(source="event.public_id")
    event_type = serializers.CharField(source="event.event_type")

    class Meta:
        model = Delivery
        fields = [
            "id", "subscription_id", "event_id", "event_type", "status", "attempt_count",
            "next_attempt_at", "last_status_code", "last_error", "created_at", "updated_at",
            "completed_at",
        ]  # fmt: skip


class DeliveryDetailSerializer(DeliverySerializer):
    attempts = AttemptSerializer(many=True, read_only=True)
    payload = serializers.JSONField(source="event.data")

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "payload", "attempts"]


class AwareDateTimeField(serializers.DateTimeField):
    """A time read by webhooks.untrusted.aware_time, as every time a client sends: ISO 8601,
    UTC when it names no offset."""

    default_error_messages = {"invalid": "Use an ISO 8601 date-time."}

    def to_internal_value(self, value):
        parsed = aware_time(value) if isinstance(value, str) else None
        if parsed is None:
            self.fail("invalid")
        return parsed


class DeliveryWindowSerializer(JSONTypes, serializers.Serializer):
    since = AwareDateTimeField(help_text="Start of the window, inclusive (ISO 8601).")
    until = AwareDateTimeField(
        required=False,
        allow_null=True,
        help_text="End of the window, exclusive (ISO 8601); left out or null: now.",
    )

    def validate(self, attrs):
        until = attrs.get("until")
        if until is not None and until <= attrs["since"]:
            raise serializers.ValidationError({"until": ["Must be later than since."]})
        return attrs


class RecoverSerializer(DeliveryWindowSerializer):
    """Failed deliveries created in [since, until) go back to pending."""


class ReplayMissingSerializer(DeliveryWindowSerializer):
    """Events of the window, at most 30 days, that the subscription matched and has no
    delivery of."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        until = attrs.get("until")
        if (until or timezone.now()) - attrs["since"] > REPLAY_WINDOW_MAX:
            raise serializers.ValidationError(
                {
                    "until" if until else "since": [
                        f"The window may span at most {REPLAY_WINDOW_MAX.days} days."
                    ]
                }
            )
        return attrs


class RecoveredSerializer(serializers.Serializer):
    requeued = serializers.IntegerField(help_text="Failed deliveries made pending again.")


class QueuedSerializer(serializers.Serializer):
    queued = serializers.IntegerField(help_text="Deliveries queued for events it had none of.")


class StatsSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    total = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    pending = serializers.IntegerField()
    pending_retries = serializers.IntegerField()
    success_rate = serializers.FloatField(allow_null=True)
    latency_p50_ms = serializers.IntegerField(allow_null=True)
    latency_p95_ms = serializers.IntegerField(allow_null=True)


class EventSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)

    class Meta:
        model = Event
        fields = ["id", "event_type", "source", "data", "channels", "idempotency_key", "created_at"]


class CausedEventSerializer(EventSerializer):
    deliveries = DeliverySerializer(many=True, read_only=True)

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "deliveries"]


@extend_schema_field(OpenApiTypes.OBJECT)
class JSONObjectField(serializers.JSONField):
    """JSON that must be an object (the serializer's validate_<field> says so): documented as
    one, not as any JSON value."""


CAUSE_SCHEMA = {
    # Inline, not a component: a nullable reference (allOf) is read by few OpenAPI 3.0 tools.
    "type": "object",
    "nullable": True,
    "description": "What made an event (webhooks.lineage), like Stripe's `request` on its events.",
    "required": ["type", "id", "url"],
    "properties": {
        "type": {"type": "string", "description": "`inbound_event`: a received webhook."},
        "id": {"type": "integer"},
        "url": {"type": "string", "description": "Where to read it, with all it caused."},
        "platform": {"type": "string"},
        "topic": {"type": "string"},
        "received_at": {"type": "string", "format": "date-time"},
    },
}


class EventDetailSerializer(CausedEventSerializer):
    """An event with its deliveries and its cause; the view puts the causes in the context."""

    caused_by = serializers.SerializerMethodField(
        allow_null=True,
        help_text="The inbound webhook it came from; null for an event published here.",
    )

    class Meta(CausedEventSerializer.Meta):
        fields = [*CausedEventSerializer.Meta.fields, "caused_by"]

    @extend_schema_field(CAUSE_SCHEMA)
    def get_caused_by(self, event) -> dict | None:
        cause = self.context["causes"].get(event.pk)
        if cause is None:
            return None
        return {key: cause[key] for key in CAUSE_SCHEMA["properties"] if key in cause}


class EventPublishSerializer(JSONTypes, serializers.Serializer):
    event_type = serializers.CharField(max_length=100)
    data = JSONObjectField()
    idempotency_key = serializers.CharField(max_length=255, required=False, allow_null=True)
    channels = _channels_field(
        "Where it happened: subscriptions that list channels receive it only if it is on one."
    )

    def validate_event_type(self, value: str) -> str:
        if not catalog.is_known(value, self.context.get("owner")):
            raise serializers.ValidationError(f"Unknown event type {value!r}.")
        return value

    def validate_data(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        if "\\u0000" in json.dumps(value):  # PostgreSQL's jsonb cannot store a NUL
            raise serializers.ValidationError("Strings must not contain the NUL character.")
        return value


class EventPublishedSerializer(serializers.Serializer):
    id = serializers.CharField(source="event.public_id")
    event_type = serializers.CharField(source="event.event_type")
    created_at = serializers.DateTimeField(source="event.created_at")
    deliveries = serializers.IntegerField()
    duplicate = serializers.SerializerMethodField()

    def get_duplicate(self, result) -> bool:
        return not result.created
