"""Selloship shipment events into the shipments projection and internal shipment.* events.

A Selloship shipment is keyed by its AWB. `scans` is the courier's scan list as Selloship
knows it (usually cumulative), so each webhook merges its scans into the tracking history
and a scan already recorded is not added again.

Selloship ships orders taken on the owner's sales channels (Shopify, Flipkart, ...), so
`order_id` is looked up among the orders of every account of the same owner, by the
channel's order id or the order's name (`#1001`). The shipment is linked only when exactly
one order matches: an ambiguous id is left unlinked rather than linked to the wrong order.
Selloship never creates orders; a shipment that arrives before its order stays unlinked
until a later event of it names the order again.
"""

import logging

from django.db.models import Q

from channels_app.commerce.models import Order
from channels_app.commerce.orders import ID_LENGTH
from channels_app.commerce.shipments import (
    AWB_LENGTH,
    COURIER_LENGTH,
    STATUS_LENGTH,
    shipment_apply,
    shipment_publish,
    tracking_entry,
)
from channels_app.models import InboundEvent
from channels_app.platforms.base import TOPIC_LENGTH
from webhooks.untrusted import Fields

logger = logging.getLogger(__name__)

EVENTS = {
    "SHIPMENT_CREATED": "shipment.created",
    "SHIPMENT_UPDATED": "shipment.updated",
    "SHIPMENT_DELIVERED": "shipment.delivered",
    "SHIPMENT_RTO": "shipment.rto",
}


def order_for_shipment(*, event: InboundEvent, order_id: str) -> Order | None:
    """The owner's one order with this id or name, from any of the owner's accounts."""
    if not order_id:
        return None
    matches = list(
        Order.objects.filter(account__owner=event.account.owner)
        .filter(Q(external_id=order_id) | Q(name=order_id))
        .order_by("pk")[:2]
    )
    if len(matches) != 1:
        if matches:
            logger.warning(
                "selloship.order_ambiguous",
                extra={"order_id": order_id, "inbound_event_id": event.pk},
            )
        return None
    return matches[0]


def _scan_entries(scans: list[Fields]) -> list[dict]:
    return [
        tracking_entry(
            status=scan.text("status", max_length=None),
            at=scan.time("timestamp"),
            location=scan.text("location", max_length=None),
            remarks=scan.text("remarks", max_length=None),
        )
        for scan in scans
    ]


def shipment_event(event: InboundEvent, payload: dict, *, event_type: str) -> None:
    """One SHIPMENT_* event: project the shipment, then publish `event_type` if it is current."""
    fields = Fields(payload)
    platform_event = fields.text("event", max_length=TOPIC_LENGTH, required=True)
    awb = fields.text("awb", max_length=AWB_LENGTH, required=True)
    occurred_at = fields.time("updated_at") or fields.time("timestamp")
    # SHIPMENT_DELIVERED and SHIPMENT_RTO imply their status when the body leaves it out.
    status = (
        fields.text("status", max_length=STATUS_LENGTH) or platform_event.removeprefix("SHIPMENT_")
    ).upper()
    courier = fields.text("courier", max_length=COURIER_LENGTH)
    order_id = fields.identifier("order_id", max_length=ID_LENGTH, required=False)
    entries = _scan_entries(fields.objects("scans")) or [
        tracking_entry(status=status, at=occurred_at, event=platform_event)
    ]
    shipment, current = shipment_apply(
        account=event.account,
        external_id=awb,
        occurred_at=occurred_at,
        status=status,
        awb=awb,
        courier=courier,
        order=order_for_shipment(event=event, order_id=order_id),
        entries=entries,
    )
    if current:
        shipment_publish(
            event=event,
            event_type=event_type,
            shipment=shipment,
            channel_order_id=order_id or None,
        )
