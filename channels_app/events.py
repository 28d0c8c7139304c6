"""Internal events the inbound channels publish, registered in the shared catalog."""

from channels_app.platforms.qualia.platform import ACTIVITY_TYPES
from webhooks.catalog import EventType

_QUALIA_EXAMPLE = {
    "order_id": "bK8bg5tajNkDpDk25",
    "description": "Marty McFly sent you a message.",
    "message_id": "LEPAjMB43myH8aGcP",
}

EVENT_TYPES = [
    EventType(
        f"qualia.activity.{activity_type}",
        f"Qualia Marketplace sent a `{activity_type}` activity.",
        {**_QUALIA_EXAMPLE, "activity_type": activity_type},
        "qualia",
    )
    for activity_type in ACTIVITY_TYPES
]
