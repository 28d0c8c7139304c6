from rest_framework import serializers

from webhooks.api.json_types import JSONTypes
from webhooks.models import ApiToken


class ApiTokenSerializer(JSONTypes, serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at"]


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The token itself, shown only once.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]


class PortalLinkSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Opens the portal logged in as you; works once.")
    expires_at = serializers.DateTimeField(help_text="The link logs nobody in after this.")
