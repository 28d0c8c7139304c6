import re

from rest_framework import serializers

from channels_app.models import Activity, ChannelAccount, InboundEvent, Message
from config.api import JSONTypes
from webhooks import catalog
from webhooks.untrusted import MalformedInput, json_parse

SOURCE_NAME = re.compile(r"[a-z][a-z0-9-]{1,49}")
# Fixed routes under /api/webhooks/ that a source's receiver path would collide with.
RESERVED_SOURCE_NAMES = {"events", "event-types", "register"}


class InboundEventSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.external_id")
    summary = serializers.SerializerMethodField()

    class Meta:
        model = InboundEvent
        fields = [
            "id", "platform", "account", "topic", "external_id", "status", "attempts",
            "next_attempt_at", "summary", "error", "received_at", "processed_at",
        ]  # fmt: skip

    def get_summary(self, event) -> str:
        try:
            payload = json_parse(bytes(event.body))
        except MalformedInput:  # stored before the receivers refused it: never a 500 here
            return ""
        if not isinstance(payload, dict):
            return ""
        return ", ".join(f"{key}={value}" for key, value in list(payload.items())[:3])[:200]


class ReprocessSerializer(JSONTypes, serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    status = serializers.ChoiceField(choices=InboundEvent.Status.choices, required=False)
    since = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if not attrs.get("ids") and not attrs.get("status"):
            raise serializers.ValidationError("Give `ids`, or a `status` (and optionally `since`).")
        return attrs


class ReprocessedSerializer(serializers.Serializer):
    requeued = serializers.IntegerField(help_text="Inbound events queued to process again.")


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


class ChannelAccountSerializer(JSONTypes, serializers.ModelSerializer):
    """Secrets are write-only: accepted on create and update, never returned."""

    secret = serializers.CharField(write_only=True, required=False, allow_blank=True)
    api_token = serializers.CharField(write_only=True, required=False, allow_blank=True)
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        help_text="HTTP Basic password (Qualia); stored hashed.",
    )
    has_secret = serializers.SerializerMethodField()

    class Meta:
        model = ChannelAccount
        fields = ["id", "platform", "name", "external_id", "verification", "signature_header",
                  "is_active", "receive_key", "created_at", "secret", "api_token", "password",
                  "has_secret"]  # fmt: skip
        read_only_fields = ["id", "receive_key", "created_at"]
        validators = []  # uniqueness is checked in validate(), which names the field

    def get_has_secret(self, account) -> bool:
        return bool(account.secret or account.password_hash)

    def validate_platform(self, value: str) -> str:
        from channels_app.platforms.registry import PLATFORMS

        if value in PLATFORMS:
            return value
        if not SOURCE_NAME.fullmatch(value) or value in RESERVED_SOURCE_NAMES:
            raise serializers.ValidationError(
                f"One of {', '.join(sorted(PLATFORMS))}, or a source name of lowercase letters, "
                "digits and hyphens."
            )
        if any(known.name.startswith(f"{value}.") for known in catalog.event_types()):
            raise serializers.ValidationError(f"`{value}` is taken by built-in event types.")
        return value

    def validate(self, attrs):
        from channels_app.platforms.registry import PLATFORMS

        platform = attrs.get("platform") or getattr(self.instance, "platform", None)
        external_id = attrs.get("external_id") or getattr(self.instance, "external_id", None)
        if platform not in PLATFORMS:
            self._validate_source(attrs)
        taken = ChannelAccount.objects.filter(platform=platform, external_id=external_id)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError({"external_id": ["Already registered."]})
        return attrs

    def _validate_source(self, attrs) -> None:
        """A source without a receiver of its own is only reachable with a way to verify it."""

        def current(field):
            return attrs.get(field, getattr(self.instance, field, ""))

        if not current("verification"):
            raise serializers.ValidationError(
                {"verification": ["Required for a source without its own receiver."]}
            )
        if current("verification") == "hmac_sha256" and not current("signature_header"):
            raise serializers.ValidationError(
                {"signature_header": ["Required for hmac_sha256 verification."]}
            )
        if not current("secret"):
            raise serializers.ValidationError({"secret": ["Required to verify the source."]})


class RegistrationTopicSerializer(serializers.Serializer):
    topic = serializers.CharField(help_text="Shopify topic, e.g. orders/create.")
    outcome = serializers.ChoiceField(choices=["created", "updated", "kept", "failed"])
    remote_id = serializers.CharField(help_text="Shopify's webhook subscription id.")
    error = serializers.CharField(help_text="Why Shopify refused it, when failed.")


class RegistrationFailureSerializer(serializers.Serializer):
    topic = serializers.CharField()
    error = serializers.CharField()


class WebhookRegistrationResultSerializer(serializers.Serializer):
    """The answer of POST /api/webhooks/register/<account_id> (documentation only)."""

    account_id = serializers.IntegerField()
    shop = serializers.CharField(help_text="The shop domain registered.")
    address = serializers.URLField(help_text="Our callback URL Shopify now posts to.")
    api_version = serializers.CharField(help_text="The pinned Admin API version used.")
    created = serializers.ListField(child=serializers.CharField())
    updated = serializers.ListField(child=serializers.CharField())
    kept = serializers.ListField(child=serializers.CharField())
    failed = RegistrationFailureSerializer(many=True)
    topics = RegistrationTopicSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())
