"""Flipkart notifications into the orders, line items and shipments projections.

Shapes follow Flipkart's Order Management Notification Reference (v3): a notification is
`{eventType, source, version, timestamp, shipmentId, locationId, attributes}`;
`shipment_created` lists `attributes.orderItems` (orderId, orderItemId, sku, title, quantity,
priceComponents), `shipment_cancelled` lists the cancelled items by orderItemId only, and the
return notifications carry `returnId` with `attributes.returnItems`. The older names
(ORDER_CREATED, ORDER_UPDATED, SHIPMENT_CREATED, PAYMENT_UPDATED) are no longer documented;
they are read with the same orderItems shape.

A return is projected as a reverse shipment, `return-<returnId>`, linked to the order its
item belongs to. Flipkart prices are in INR.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from channels_app.commerce.models import LineItem, Order
from channels_app.commerce.orders import ID_LENGTH, MONEY, QUANTITY, order_event_data
from channels_app.commerce.shipments import (
    AWB_LENGTH,
    COURIER_LENGTH,
    SHIPMENT_ID_LENGTH,
    STATUS_LENGTH,
    shipment_apply,
    shipment_publish,
    tracking_entry,
)
from channels_app.models import ChannelAccount, InboundEvent
from channels_app.platforms.base import TOPIC_LENGTH
from channels_app.services import inbound_event_publish
from webhooks.untrusted import Fields

CURRENCY = "INR"

SHIPMENT_EVENTS = {
    "shipment_created": "shipment.created",
    "SHIPMENT_CREATED": "shipment.created",
    "shipment_ready_to_dispatch": "shipment.updated",
    "shipment_shipped": "shipment.updated",
    "shipment_delivered": "shipment.delivered",
    "shipment_cancelled": "shipment.cancelled",
}
ORDER_EVENTS = {
    "ORDER_CREATED": "order.created",
    "ORDER_UPDATED": "order.updated",
    "PAYMENT_UPDATED": "order.updated",
}


@dataclass(frozen=True)
class _Item:
    """An orderItems or returnItems entry, read to fit where it goes."""

    fields: Fields
    order_id: str
    order_item_id: str
    sku: str
    quantity: int | None
    reason: str

    def summary(self) -> dict:
        """What an internal event lists of the item: the fields it named."""
        return {
            key: value
            for key in ("order_id", "order_item_id", "sku", "quantity", "reason")
            if (value := getattr(self, key)) not in (None, "")
        }


def _items(attributes: Fields, key: str = "orderItems") -> list[_Item]:
    return [
        _Item(
            fields=item,
            order_id=item.identifier("orderId", max_length=ID_LENGTH, required=False),
            order_item_id=item.identifier("orderItemId", max_length=ID_LENGTH, required=False),
            sku=item.text("sku", max_length=255),
            quantity=item.integer("quantity", **QUANTITY),
            reason=item.text("reason", max_length=None),
        )
        for item in attributes.objects(key)
    ]


def _order_touch(
    *, account: ChannelAccount, order_id: str, occurred_at, payment_status: str
) -> tuple[Order, bool]:
    """The order, created if new; its fields change only when this notification is not older."""
    order, created = Order.objects.select_for_update().get_or_create(
        account=account,
        external_id=order_id,
        defaults={"name": order_id, "currency": CURRENCY},
    )
    current = (
        created
        or order.remote_updated_at is None
        or occurred_at is None
        or occurred_at >= order.remote_updated_at
    )
    if current:
        if payment_status:
            order.financial_status = payment_status
        if occurred_at:
            order.remote_updated_at = occurred_at
        order.save()
    return order, current


def order_items_upsert(
    *, account: ChannelAccount, items: list[_Item], occurred_at, payment_status: str = ""
) -> list[tuple[Order, bool]]:
    """Orders and line items from items that name their orderId: (order, current) per order.

    A line item not seen before is always recorded (an order's shipments arrive in any order
    and each lists its own items); a known one is overwritten only by a notification that is
    not older than its order's `remote_updated_at`.
    """
    lines = [
        (item, {
            "sku": item.sku,
            "title": item.fields.text("title", max_length=500),
            "quantity": item.quantity or 0,
            "price": item.fields.object("priceComponents").decimal("sellingPrice", **MONEY),
        })
        for item in items
        if item.order_id and item.order_item_id  # cancelled items name only orderItemId
    ]  # fmt: skip
    orders: dict[str, tuple[Order, bool]] = {}
    for item, fields in lines:
        order_id = item.order_id
        if order_id not in orders:
            orders[order_id] = _order_touch(
                account=account,
                order_id=order_id,
                occurred_at=occurred_at,
                payment_status=payment_status,
            )
        order, current = orders[order_id]
        write = LineItem.objects.update_or_create if current else LineItem.objects.get_or_create
        write(order=order, external_id=item.order_item_id, defaults=fields)
    return list(orders.values())


def _order_of_items(account: ChannelAccount, items: list[_Item]) -> Order | None:
    """The order an item list belongs to, by orderId or else by a known orderItemId."""
    for item in items:
        if item.order_id:
            return Order.objects.filter(account=account, external_id=item.order_id).first()
    item_ids = [item.order_item_id for item in items if item.order_item_id]
    line = (
        LineItem.objects.filter(order__account=account, external_id__in=item_ids)
        .select_related("order")
        .first()
    )
    return line.order if line else None


def shipment_event(event: InboundEvent, payload: dict, *, event_type: str) -> None:
    """A shipment_* notification (or the older SHIPMENT_CREATED): project and publish."""
    fields = Fields(payload)
    platform_event = fields.text("eventType", max_length=TOPIC_LENGTH, required=True)
    shipment_id = fields.identifier("shipmentId", max_length=SHIPMENT_ID_LENGTH)
    location_id = fields.identifier("locationId", max_length=ID_LENGTH, required=False)
    occurred_at = fields.time("timestamp")
    attributes = fields.object("attributes")
    items = _items(attributes)
    # Documented statuses are APPROVED-per-item, READY_TO_DISPATCH, SHIPPED, DELIVERED,
    # CANCELLED; shipment_created has none at the top, so the event names it.
    status = (
        attributes.text("status", max_length=STATUS_LENGTH)
        or platform_event.lower().removeprefix("shipment_")
    ).upper()
    order_items_upsert(account=event.account, items=items, occurred_at=occurred_at)
    shipment, current = shipment_apply(
        account=event.account,
        external_id=shipment_id,
        occurred_at=occurred_at,
        status=status,
        order=_order_of_items(event.account, items),
        entries=[
            tracking_entry(status=status, at=occurred_at, event=platform_event,
                           location=location_id)
        ],
    )  # fmt: skip
    if current:
        shipment_publish(
            event=event, event_type=event_type, shipment=shipment,
            location_id=location_id or None,
            items=[item.summary() for item in items],
        )  # fmt: skip


def order_event(event: InboundEvent, payload: dict, *, event_type: str) -> None:
    """An older ORDER_*/PAYMENT_UPDATED notification: orders and line items, then order.*."""
    fields = Fields(payload)
    platform_event = fields.text("eventType", max_length=TOPIC_LENGTH, required=True)
    shipment_id = fields.identifier("shipmentId", max_length=SHIPMENT_ID_LENGTH)
    attributes = fields.object("attributes")
    orders = order_items_upsert(
        account=event.account,
        items=_items(attributes),
        occurred_at=fields.time("timestamp"),
        payment_status=attributes.text("paymentStatus", max_length=50),
    )
    current = [order for order, is_current in orders if is_current]
    if not current:
        return  # nothing named an order, or every order named has newer data
    order = current[0]
    inbound_event_publish(
        event=event,
        event_type=event_type,
        data=order_event_data(
            order,
            account=event.account.external_id,
            shipment_id=shipment_id,
            platform_event=platform_event,
            line_items=[
                {"order_item_id": line.external_id, "sku": line.sku, "quantity": line.quantity}
                for line in order.line_items.order_by("pk")
            ],
        ),
    )


RETURN_PREFIX = "return-"


def return_event(event: InboundEvent, payload: dict) -> None:
    """A return_* notification: the return as a reverse shipment, then return.created/updated."""
    fields = Fields(payload)
    platform_event = fields.text("eventType", max_length=TOPIC_LENGTH, required=True)
    return_id = fields.identifier("returnId", max_length=SHIPMENT_ID_LENGTH - len(RETURN_PREFIX))
    occurred_at = fields.time("timestamp")
    attributes = fields.object("attributes")
    items = _items(attributes, "returnItems")
    first = items[0] if items else None
    first_fields = first.fields if first else Fields({})
    status = (attributes.text("status", max_length=STATUS_LENGTH) or platform_event).upper()
    awb = first_fields.text("trackingId", max_length=AWB_LENGTH)
    courier = first_fields.text("courierName", max_length=COURIER_LENGTH)
    forward_shipment_id = first_fields.identifier(
        "shipmentId", max_length=SHIPMENT_ID_LENGTH, required=False
    )
    shipment, current = shipment_apply(
        account=event.account,
        external_id=RETURN_PREFIX + return_id,
        occurred_at=occurred_at,
        status=status,
        awb=awb,
        courier=courier,
        order=_order_of_items(event.account, items),
        entries=[tracking_entry(status=status, at=occurred_at, event=platform_event)],
    )
    if current:
        shipment_publish(
            event=event,
            event_type="return.created" if platform_event == "return_created" else "return.updated",
            shipment=shipment,
            return_id=return_id,
            forward_shipment_id=forward_shipment_id or None,
            reason=(first.reason or None) if first else None,
            items=[item.summary() for item in items],
        )


def handler_for(event_type: str) -> Callable[[InboundEvent, dict], None] | None:
    """The handler for a Flipkart eventType; None when the type is stored and ignored."""
    if event_type in SHIPMENT_EVENTS:
        return partial(shipment_event, event_type=SHIPMENT_EVENTS[event_type])
    if event_type in ORDER_EVENTS:
        return partial(order_event, event_type=ORDER_EVENTS[event_type])
    if event_type.startswith("return_"):
        return return_event
    return None
