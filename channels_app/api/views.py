from django.db import IntegrityError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
)
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app import processing, selectors, services
from channels_app.api.serializers import (
    ChannelAccountSerializer,
    InboundEventSerializer,
    ReprocessedSerializer,
    ReprocessSerializer,
)
from channels_app.models import ChannelAccount, InboundEvent
from webhooks.api.listing import (
    CursorPaginated,
    choice_parameter,
    parse_choice,
    parse_since,
    since_parameter,
)


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
        count = processing.inbound_events_reprocess(events=events)
        return Response({"requeued": count}, status=202)


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
