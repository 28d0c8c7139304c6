from django.db import IntegrityError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app import processing, selectors, services
from channels_app.api.serializers import (
    ChannelAccountSerializer,
    InboundEventSerializer,
    ReprocessSerializer,
)
from channels_app.models import ChannelAccount
from webhooks.api.listing import paginated, parse_since


class InboundEventListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter(name) for name in ("platform", "topic", "status", "since")],
        responses=InboundEventSerializer(many=True),
    )
    def get(self, request):
        events = selectors.inbound_events_for(request.user)
        for field in ("platform", "topic", "status"):
            if value := request.query_params.get(field):
                events = events.filter(**{field: value})
        if since := parse_since(request):
            events = events.filter(received_at__gte=since)
        return paginated(request, events, InboundEventSerializer)


class InboundEventReprocessView(APIView):
    @extend_schema(request=ReprocessSerializer, responses={202: None})
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


class ChannelAccountListView(APIView):
    @extend_schema(responses=ChannelAccountSerializer(many=True))
    def get(self, request):
        accounts = ChannelAccount.objects.filter(owner=request.user)
        return paginated(request, accounts, ChannelAccountSerializer)

    @extend_schema(request=ChannelAccountSerializer, responses={201: ChannelAccountSerializer})
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
