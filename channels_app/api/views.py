from django.db import IntegrityError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app import selectors, services
from channels_app.api.serializers import (
    ActivitySerializer,
    ChannelAccountSerializer,
    InboundEventSerializer,
    MessageSerializer,
    ReprocessedSerializer,
    ReprocessSerializer,
    WebhookRegistrationResultSerializer,
)
from channels_app.models import Activity, ChannelAccount, InboundEvent, Message
from channels_app.platforms.shopify.registration import (
    RegistrationError,
    shopify_webhooks_register,
)
from config.api import (
    CursorPaginated,
    ErrorSerializer,
    choice_parameter,
    parse_choice,
    parse_since,
    since_parameter,
)
from config.errors import error_body


class InboundEventListView(CursorPaginated, APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("platform", description="Only those this receiver took."),
            OpenApiParameter("topic", description="Only those of this topic."),
            choice_parameter("status", InboundEvent.Status),
            since_parameter("received"),
        ],
        responses=InboundEventSerializer(many=True),
    )
    def get(self, request):
        events = selectors.inbound_events_for(request.user)
        for field in ("platform", "topic"):
            if value := request.query_params.get(field):
                events = events.filter(**{field: value})
        if status_filter := parse_choice(request, "status", InboundEvent.Status):
            events = events.filter(status=status_filter)
        if since := parse_since(request):
            events = events.filter(received_at__gte=since)
        return self.paginated(events, InboundEventSerializer)


class InboundEventReprocessView(APIView):
    @extend_schema(request=ReprocessSerializer, responses={202: ReprocessedSerializer})
    def post(self, request):
        incoming = ReprocessSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        events = selectors.inbound_events_for(request.user)
        if ids := incoming.validated_data.get("ids"):
            events = events.filter(pk__in=ids)
        else:
            events = events.filter(status=incoming.validated_data["status"])
            if since := incoming.validated_data.get("since"):
                events = events.filter(received_at__gte=since)
        count = services.inbound_events_reprocess(events=events)
        return Response({"requeued": count}, status=202)


class QualiaOrderActivitiesView(APIView):
    path_lookup = False  # an order without activities of yours is an empty list, not 404

    @extend_schema(parameters=[OpenApiParameter("type")], responses=ActivitySerializer(many=True))
    def get(self, request, order_id: str):
        activities = Activity.objects.filter(account__owner=request.user, order_id=order_id)
        if activity_type := request.query_params.get("type"):
            activities = activities.filter(activity_type=activity_type)
        return Response(ActivitySerializer(activities.order_by("received_at"), many=True).data)


class QualiaOrderMessagesView(APIView):
    path_lookup = False

    @extend_schema(responses=MessageSerializer(many=True))
    def get(self, request, order_id: str):
        messages = Message.objects.filter(account__owner=request.user, order_id=order_id)
        return Response(MessageSerializer(messages.order_by("created_date"), many=True).data)


class ChannelAccountListView(CursorPaginated, APIView):
    @extend_schema(responses=ChannelAccountSerializer(many=True))
    def get(self, request):
        accounts = ChannelAccount.objects.filter(owner=request.user)
        return self.paginated(accounts, ChannelAccountSerializer)

    @extend_schema(
        request=ChannelAccountSerializer,
        responses={201: ChannelAccountSerializer},
        examples=[
            OpenApiExample(
                "A Stripe account",
                request_only=True,
                value={
                    "platform": "stripe",
                    "name": "Acme",
                    "external_id": "acct_1A2b3C",
                    "secret": "whsec_from_stripe",
                },
            )
        ],
    )
    def post(self, request):
        incoming = ChannelAccountSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            account = services.channel_account_save(
                account=ChannelAccount(owner=request.user), **incoming.validated_data
            )
        except IntegrityError as exc:  # a concurrent create won the same identifier
            raise ValidationError({"external_id": ["Already registered."]}) from exc
        return Response(ChannelAccountSerializer(account).data, status=201)


class ChannelAccountDetailView(APIView):
    def account(self, request, pk):
        return get_object_or_404(ChannelAccount.objects.filter(owner=request.user), pk=pk)

    @extend_schema(responses=ChannelAccountSerializer)
    def get(self, request, pk: int):
        return Response(ChannelAccountSerializer(self.account(request, pk)).data)

    @extend_schema(request=ChannelAccountSerializer, responses=ChannelAccountSerializer)
    def patch(self, request, pk: int):
        account = self.account(request, pk)
        incoming = ChannelAccountSerializer(account, data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        services.channel_account_save(account=account, **incoming.validated_data)
        return Response(ChannelAccountSerializer(account).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        self.account(request, pk).delete()
        return Response(status=204)


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
