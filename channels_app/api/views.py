from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app import selectors, services
from channels_app.api.serializers import InboundEventSerializer, ReprocessSerializer
from config.api import paginated, parse_since


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
        count = services.inbound_events_reprocess(events=events)
        return Response({"requeued": count}, status=202)
