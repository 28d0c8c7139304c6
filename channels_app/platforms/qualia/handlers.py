"""Qualia activities: store each one and publish `qualia.activity.<type>` to the owner."""

from django.utils import timezone

from channels_app.models import InboundEvent
from channels_app.platforms.qualia import fetches
from channels_app.platforms.qualia.models import Activity
from channels_app.services import inbound_event_publish
from webhooks.untrusted import Fields

ORDER_ID_LENGTH = Activity._meta.get_field("order_id").max_length
MESSAGE_ID_LENGTH = Activity._meta.get_field("message_id").max_length


def activity_process(event: InboundEvent, payload: dict) -> bool:
    received_at = event.received_at or timezone.now()
    fields = Fields(payload)
    activity, created = Activity.objects.get_or_create(
        inbound_event=event,
        defaults={
            "account": event.account,
            "order_id": fields.text("order_id", max_length=ORDER_ID_LENGTH, required=True),
            "activity_type": fields.text("type", max_length=50, required=True),
            "description": fields.text("description", max_length=None),
            "message_id": fields.text("message_id", max_length=MESSAGE_ID_LENGTH),
            "timestamp_ms": int(received_at.timestamp() * 1000),
            "received_at": received_at,
        },
    )
    if created and activity.activity_type == "message":
        fetches.message_fetch_owe(activity=activity)
    if created:
        inbound_event_publish(
            event=event,
            event_type=f"qualia.activity.{activity.activity_type}",
            data={
                "order_id": activity.order_id,
                "activity_type": activity.activity_type,
                "description": activity.description,
                "message_id": activity.message_id or None,
            },
        )
    return True


PLATFORM = "qualia"
