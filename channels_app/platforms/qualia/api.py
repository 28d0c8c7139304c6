"""Qualia in the REST API: an order's activities and its fetched messages."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.platforms.qualia.models import Activity, Message


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
