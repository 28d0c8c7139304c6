import json

from rest_framework import serializers

from subscriptions.models import (
    MAX_MAX_IN_FLIGHT,
    MAX_RATE_LIMIT_PER_SECOND,
    MAX_RETRY_COUNT,
    MAX_TIMEOUT_SECONDS,
    Delivery,
    DeliveryAttempt,
    Subscription,
)
from subscriptions.services import subscription_url_problem
from webhooks import catalog
from webhooks.models import Event


class EventTypeSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    group = serializers.CharField()
    example = serializers.JSONField()


class SubscriptionSerializer(serializers.ModelSerializer):
    url = serializers.URLField(max_length=2048)
    event_types = serializers.ListField(child=serializers.CharField(max_length=100), min_length=1)
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
            "id", "url", "event_types", "description", "is_active", "retry_count",
            "timeout_seconds", "max_in_flight", "rate_limit_per_second", "disabled_reason",
            "created_at", "updated_at",
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


class SubscriptionCreatedSerializer(SubscriptionSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown only in this response.")

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


class RecoverSerializer(serializers.Serializer):
    since = serializers.DateTimeField()


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
        fields = ["id", "event_type", "source", "data", "idempotency_key", "created_at"]


class EventDetailSerializer(EventSerializer):
    deliveries = DeliverySerializer(many=True, read_only=True)

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "deliveries"]


class EventPublishSerializer(serializers.Serializer):
    event_type = serializers.CharField(max_length=100)
    data = serializers.JSONField()
    idempotency_key = serializers.CharField(max_length=255, required=False, allow_null=True)

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
