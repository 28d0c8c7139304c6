import json

from rest_framework import serializers

from channels_app.models import Activity, InboundEvent, Message


class InboundEventSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.external_id")
    summary = serializers.SerializerMethodField()

    class Meta:
        model = InboundEvent
        fields = [
            "id", "platform", "account", "topic", "external_id", "status", "attempts", "summary",
            "error", "received_at", "processed_at",
        ]  # fmt: skip

    def get_summary(self, event) -> str:
        try:
            payload = json.loads(bytes(event.body))
        except ValueError:
            return ""
        if not isinstance(payload, dict):
            return ""
        return ", ".join(f"{key}={value}" for key, value in list(payload.items())[:3])[:200]


class ReprocessSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    status = serializers.ChoiceField(choices=InboundEvent.Status.choices, required=False)
    since = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if not attrs.get("ids") and not attrs.get("status"):
            raise serializers.ValidationError("Give `ids`, or a `status` (and optionally `since`).")
        return attrs


class ActivitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Activity
        fields = ["id", "order_id", "activity_type", "description", "message_id", "timestamp_ms",
                  "received_at"]  # fmt: skip


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["order_id", "message_id", "from_name", "text", "created_date", "read",
                  "order_number", "attachments", "stored_at"]  # fmt: skip
