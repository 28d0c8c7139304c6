import re

from rest_framework import serializers

from channels_app.models import ChannelAccount, InboundEvent
from channels_app.platforms.registry import PLATFORMS
from webhooks import catalog
from webhooks.api.json_types import JSONTypes
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
