"""Qualia Marketplace events: each activity type, and the message fetched after one."""

from channels_app.platforms.qualia.platform import ACTIVITY_TYPES
from webhooks.catalog import EventType

_QUALIA_EXAMPLE = {
    "order_id": "bK8bg5tajNkDpDk25",
    "description": "Marty McFly sent you a message.",
    "message_id": "LEPAjMB43myH8aGcP",
}

EVENT_TYPES = [
    EventType(
        "qualia.message.received",
        "The full text of a Qualia message, fetched after its activity.",
        {
            "order_id": "bK8bg5tajNkDpDk25",
            "message_id": "LEPAjMB43myH8aGcP",
            "from_name": "Marty McFly",
            "text": "Can you expedite?",
            "order_number": "TEST-2018-1",
        },
        "qualia",
    ),
    *(
        EventType(
            f"qualia.activity.{activity_type}",
            f"Qualia Marketplace sent a `{activity_type}` activity.",
            {**_QUALIA_EXAMPLE, "activity_type": activity_type},
            "qualia",
        )
        for activity_type in ACTIVITY_TYPES
    ),
]
