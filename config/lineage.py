"""`GET /api/inbound-events/<id>`: a received webhook and what it caused, down to each delivery.

It reads both directions (the inbound log, and the outbound deliveries of the events it
produced), so it is wiring, like the dashboard: each app stays ignorant of the other.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.api.serializers import InboundEventSerializer
from channels_app.selectors import events_produced_by, inbound_events_for
from subscriptions.api.serializers import CausedEventSerializer


class InboundEventLineageSerializer(InboundEventSerializer):
    """An inbound request and what it caused: each internal event, with its deliveries."""

    events = CausedEventSerializer(many=True, read_only=True, source="lineage_events")

    class Meta(InboundEventSerializer.Meta):
        fields = [*InboundEventSerializer.Meta.fields, "events"]


class InboundEventLineageView(APIView):
    @extend_schema(responses=InboundEventLineageSerializer)
    def get(self, request, pk: int):
        inbound = get_object_or_404(inbound_events_for(request.user), pk=pk)
        produced = events_produced_by(inbound).prefetch_related("deliveries__event")
        inbound.lineage_events = list(produced)
        return Response(InboundEventLineageSerializer(inbound).data)
