"""The outbound REST API. Views translate HTTP to services and selectors, nothing more.

Every lookup goes through the caller's own rows, so another user's ids answer 404.
"""

from collections.abc import Callable
from datetime import timedelta

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers as rest_serializers
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from subscriptions import selectors, services
from subscriptions.api import serializers
from webhooks import catalog
from webhooks.api.listing import (
    CursorPaginated,
    choice_parameter,
    parse_choice,
    parse_since,
    since_parameter,
)
from webhooks.lineage import event_causes
from webhooks.models import Event
from webhooks.services import event_publish

STATS_WINDOW = timedelta(hours=24)


class EventTypeListView(APIView):
    @extend_schema(responses=serializers.EventTypeSerializer(many=True))
    def get(self, request):
        types = [*catalog.event_types(), *catalog.namespace_types(request.user)]
        return Response(serializers.EventTypeSerializer(types, many=True).data)


class SubscriptionListView(CursorPaginated, APIView):
    @extend_schema(responses=serializers.SubscriptionSerializer(many=True))
    def get(self, request):
        return self.paginated(
            selectors.subscriptions_for(request.user), serializers.SubscriptionSerializer
        )

    @extend_schema(
        request=serializers.SubscriptionSerializer,
        responses={201: serializers.SubscriptionCreatedSerializer},
        examples=[
            OpenApiExample(
                "Tasks",
                request_only=True,
                value={"url": "https://example.com/webhooks", "event_types": ["task.*"]},
            )
        ],
    )
    def post(self, request):
        incoming = serializers.SubscriptionSerializer(
            data=request.data, context={"owner": request.user}
        )
        incoming.is_valid(raise_exception=True)
        fields = {k: v for k, v in incoming.validated_data.items() if k != "is_active"}
        subscription = services.subscription_create(owner=request.user, **fields)
        return Response(
            serializers.SubscriptionCreatedSerializer(subscription).data,
            status=status.HTTP_201_CREATED,
        )


class SubscriptionView(APIView):
    def subscription(self, request, pk):
        return get_object_or_404(selectors.subscriptions_for(request.user), pk=pk)


class SubscriptionDetailView(SubscriptionView):
    @extend_schema(responses=serializers.SubscriptionSerializer)
    def get(self, request, pk: int):
        return Response(serializers.SubscriptionSerializer(self.subscription(request, pk)).data)

    @extend_schema(
        request=serializers.SubscriptionSerializer, responses=serializers.SubscriptionSerializer
    )
    def patch(self, request, pk: int):
        subscription = self.subscription(request, pk)
        incoming = serializers.SubscriptionSerializer(
            subscription, data=request.data, partial=True, context={"owner": request.user}
        )
        incoming.is_valid(raise_exception=True)
        services.subscription_update(subscription=subscription, **incoming.validated_data)
        return Response(serializers.SubscriptionSerializer(subscription).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        services.subscription_delete(subscription=self.subscription(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubscriptionTestView(SubscriptionView):
    @extend_schema(request=None, responses=serializers.TestSendSerializer)
    def post(self, request, pk: int):
        result = services.subscription_test_send(subscription=self.subscription(request, pk))
        return Response(serializers.TestSendSerializer(result).data)


class SubscriptionRotateSecretView(SubscriptionView):
    @extend_schema(request=None, responses=serializers.SecretSerializer)
    def post(self, request, pk: int):
        subscription = services.subscription_rotate_secret(
            subscription=self.subscription(request, pk)
        )
        return Response(serializers.SecretSerializer(subscription).data)


class SubscriptionWindowView(SubscriptionView):
    """POST {since, until?}: run `service` over the subscription's window and answer 202 with
    the count it returns, as `answer_field`."""

    window: type[serializers.DeliveryWindowSerializer]
    answer: type[rest_serializers.Serializer]
    answer_field: str
    service: Callable[..., int]

    def post(self, request, pk: int):
        subscription = self.subscription(request, pk)
        incoming = self.window(data=request.data)
        incoming.is_valid(raise_exception=True)
        count = self.service(subscription=subscription, **incoming.validated_data)
        return Response(
            self.answer({self.answer_field: count}).data, status=status.HTTP_202_ACCEPTED
        )


@extend_schema_view(
    post=extend_schema(
        request=serializers.RecoverSerializer, responses={202: serializers.RecoveredSerializer}
    )
)
class SubscriptionRecoverView(SubscriptionWindowView):
    """Re-queue every failed delivery of the subscription created in [since, until), due now.
    A repeat finds them pending and re-queues none."""

    window = serializers.RecoverSerializer
    answer = serializers.RecoveredSerializer
    answer_field = "requeued"
    service = staticmethod(services.subscription_recover)


@extend_schema_view(
    post=extend_schema(
        request=serializers.ReplayMissingSerializer, responses={202: serializers.QueuedSerializer}
    )
)
class SubscriptionReplayMissingView(SubscriptionWindowView):
    """Queue a delivery of every event of yours created in [since, until) (at most 30 days,
    and not before the subscription was created) that the subscription matches (its types,
    channels and filter) and has no delivery of, such as those published while it was
    disabled. A repeat queues nothing new."""

    window = serializers.ReplayMissingSerializer
    answer = serializers.QueuedSerializer
    answer_field = "queued"
    service = staticmethod(services.subscription_replay_missing)


class SubscriptionStatsView(SubscriptionView):
    @extend_schema(responses=serializers.StatsSerializer)
    def get(self, request, pk: int):
        stats = selectors.delivery_stats(
            subscription=self.subscription(request, pk), window=STATS_WINDOW
        )
        return Response(serializers.StatsSerializer(stats).data)


EVENT_TYPE = OpenApiParameter("event_type", description="Only events of this type.")


class DeliveryListView(CursorPaginated, SubscriptionView):
    @extend_schema(
        parameters=[
            choice_parameter("status", selectors.Status),
            EVENT_TYPE,
            since_parameter("created"),
        ],
        responses=serializers.DeliverySerializer(many=True),
    )
    def get(self, request, pk: int):
        deliveries = selectors.deliveries_for(self.subscription(request, pk))
        if status_filter := parse_choice(request, "status", selectors.Status):
            deliveries = deliveries.filter(status=status_filter)
        if event_type := request.query_params.get("event_type"):
            deliveries = deliveries.filter(event__event_type=event_type)
        if since := parse_since(request):
            deliveries = deliveries.filter(created_at__gte=since)
        return self.paginated(deliveries, serializers.DeliverySerializer)


class DeliveryView(SubscriptionView):
    def delivery(self, request, pk, delivery_id):
        deliveries = selectors.deliveries_for(self.subscription(request, pk))
        return get_object_or_404(deliveries.prefetch_related("attempts"), pk=delivery_id)


class DeliveryDetailView(DeliveryView):
    @extend_schema(responses=serializers.DeliveryDetailSerializer)
    def get(self, request, pk: int, delivery_id: int):
        delivery = self.delivery(request, pk, delivery_id)
        return Response(serializers.DeliveryDetailSerializer(delivery).data)


class DeliveryRetryView(DeliveryView):
    @extend_schema(request=None, responses={202: serializers.DeliverySerializer})
    def post(self, request, pk: int, delivery_id: int):
        delivery = services.delivery_retry(delivery=self.delivery(request, pk, delivery_id))
        return Response(
            serializers.DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED
        )


class EventListView(CursorPaginated, APIView):
    @extend_schema(
        parameters=[EVENT_TYPE, since_parameter("created")],
        responses=serializers.EventSerializer(many=True),
    )
    def get(self, request):
        events = Event.objects.filter(owner=request.user)
        if event_type := request.query_params.get("event_type"):
            events = events.filter(event_type=event_type)
        if since := parse_since(request):
            events = events.filter(created_at__gte=since)
        return self.paginated(events, serializers.EventSerializer)

    @extend_schema(
        request=serializers.EventPublishSerializer,
        responses={202: serializers.EventPublishedSerializer},
        examples=[
            OpenApiExample(
                "A task",
                request_only=True,
                value={"event_type": "task.created", "data": {"task_id": "t_1"}},
            )
        ],
    )
    def post(self, request):
        incoming = serializers.EventPublishSerializer(
            data=request.data, context={"owner": request.user}
        )
        incoming.is_valid(raise_exception=True)
        result = event_publish(owner=request.user, source="api", **incoming.validated_data)
        return Response(
            serializers.EventPublishedSerializer(result).data, status=status.HTTP_202_ACCEPTED
        )


class EventDetailView(APIView):
    @extend_schema(responses=serializers.EventDetailSerializer)
    def get(self, request, public_id: str):
        event = get_object_or_404(
            Event.objects.filter(owner=request.user).prefetch_related("deliveries__event"),
            public_id=public_id,
        )
        causes = event_causes([event])
        return Response(serializers.EventDetailSerializer(event, context={"causes": causes}).data)
