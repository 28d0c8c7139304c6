"""Shopify in the REST API: registering our webhooks on a shop."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.models import ChannelAccount
from channels_app.platforms.shopify.registration import RegistrationError, shopify_webhooks_register
from webhooks.api.schema import ErrorSerializer
from webhooks.errors import error_body


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


# What the caller must fix decides the status: their account (422), our configuration (503),
# or Shopify failing to answer (502).
REGISTRATION_ERROR_STATUS = {
    "not_shopify": 422,
    "missing_api_token": 422,
    "invalid_shop_domain": 422,
    "shopify_unauthorized": 422,
    "receiver_url_unset": 503,
    "shopify_error": 502,
    "shopify_unreachable": 502,
}


class ShopifyWebhooksRegisterView(APIView):
    @extend_schema(
        request=None,
        responses={
            200: WebhookRegistrationResultSerializer,
            422: OpenApiResponse(
                ErrorSerializer,
                description="Not a Shopify account, no API token, not a *.myshopify.com shop, "
                "or a token Shopify refuses.",
            ),
            502: OpenApiResponse(ErrorSerializer, description="Shopify failed to answer."),
            503: OpenApiResponse(
                ErrorSerializer, description="WEBHOOK_BASE_URL unset, or the database is down."
            ),
        },
        description=(
            "Register our Shopify receiver for every topic it handles on the account's shop "
            "(Admin REST API). Idempotent: creates what is missing, moves ours from a stale "
            "address, keeps what is right; per-topic failures are listed in `failed`."
        ),
    )
    def post(self, request, account_id: int):
        account = get_object_or_404(
            ChannelAccount.objects.filter(owner=request.user), pk=account_id
        )
        try:
            result = shopify_webhooks_register(account=account)
        except RegistrationError as exc:
            errors = {exc.field: [exc.message]} if exc.field else None
            return Response(
                error_body(exc.message, exc.code, errors),
                status=REGISTRATION_ERROR_STATUS.get(exc.code, 502),
            )
        return Response({"account_id": account.pk, **result.as_dict()})
