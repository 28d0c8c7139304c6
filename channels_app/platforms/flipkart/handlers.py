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
from functools import partial

from channels_app.commerce.models import LineItem, Order
from channels_app.commerce.orders import decimal_or_none, order_event_data
from channels_app.commerce.shipments import shipment_apply, shipment_publish, tracking_entry
from channels_app.models import ChannelAccount, InboundEvent
from channels_app.services import inbound_event_publish
from webhooks.untrusted import aware_time

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


def _occurred_at(payload: dict):
    return aware_time(payload.get("timestamp"))


def _attributes(payload: dict) -> dict:
    return payload.get("attributes") or {}


def _items(attributes: dict, key: str = "orderItems") -> list[dict]:
    return [item for item in attributes.get(key) or [] if isinstance(item, dict)]


def _order_touch(
    *, account: ChannelAccount, order_id: str, occurred_at, payment_status: str
) -> tuple[Order, bool]:
    """The order, created if new; its fields change only when this notification is not older."""
    order, created = Order.objects.select_for_update().get_or_create(
        account=account,
        external_id=order_id[:100],
        defaults={"name": order_id[:100], "currency": CURRENCY},
    )
    current = (
        created
        or order.remote_updated_at is None
        or occurred_at is None
        or occurred_at >= order.remote_updated_at
    )
    if current:
        if payment_status:
            order.financial_status = payment_status[:50]
        if occurred_at:
            order.remote_updated_at = occurred_at
        order.save()
    return order, current


def order_items_upsert(
    *, account: ChannelAccount, items: list[dict], occurred_at, payment_status: str = ""
) -> list[tuple[Order, bool]]:
    """Orders and line items from items that name their orderId: (order, current) per order.

    A line item not seen before is always recorded (an order's shipments arrive in any order
    and each lists its own items); a known one is overwritten only by a notification that is
    not older than its order's `remote_updated_at`.
    """
    orders: dict[str, tuple[Order, bool]] = {}
    for item in items:
        order_id, item_id = str(item.get("orderId") or ""), str(item.get("orderItemId") or "")
        if not order_id or not item_id:
            continue  # cancellation items name only their orderItemId
        if order_id not in orders:
            orders[order_id] = _order_touch(
                account=account,
                order_id=order_id,
                occurred_at=occurred_at,
                payment_status=payment_status,
            )
        order, current = orders[order_id]
        price = item.get("priceComponents")
        fields = {
            "sku": str(item.get("sku") or "")[:255],
            "title": str(item.get("title") or "")[:500],
            "quantity": int(item.get("quantity") or 0),
            "price": decimal_or_none(
                price.get("sellingPrice") if isinstance(price, dict) else None
            ),
        }
        write = LineItem.objects.update_or_create if current else LineItem.objects.get_or_create
        write(order=order, external_id=item_id[:100], defaults=fields)
    return list(orders.values())


def _order_of_items(account: ChannelAccount, items: list[dict]) -> Order | None:
    """The order an item list belongs to, by orderId or else by a known orderItemId."""
    for item in items:
        if item.get("orderId"):
            return Order.objects.filter(account=account, external_id=str(item["orderId"])).first()
    item_ids = [str(item["orderItemId"]) for item in items if item.get("orderItemId")]
    line = (
        LineItem.objects.filter(order__account=account, external_id__in=item_ids)
        .select_related("order")
        .first()
    )
    return line.order if line else None


def _item_summary(item: dict) -> dict:
    return {
        key: item.get(source)
        for key, source in (
            ("order_id", "orderId"),
            ("order_item_id", "orderItemId"),
            ("sku", "sku"),
            ("quantity", "quantity"),
            ("reason", "reason"),
        )
        if item.get(source) not in (None, "")
    }


def shipment_event(event: InboundEvent, payload: dict, *, event_type: str) -> None:
    """A shipment_* notification (or the older SHIPMENT_CREATED): project and publish."""
    attributes = _attributes(payload)
    occurred_at = _occurred_at(payload)
    items = _items(attributes)
    order_items_upsert(account=event.account, items=items, occurred_at=occurred_at)
    platform_event = payload["eventType"]
    # Documented statuses are APPROVED-per-item, READY_TO_DISPATCH, SHIPPED, DELIVERED,
    # CANCELLED; shipment_created has none at the top, so the event names it.
    status = str(attributes.get("status") or platform_event.lower().removeprefix("shipment_"))
    shipment, current = shipment_apply(
        account=event.account,
        external_id=str(payload["shipmentId"]),
        occurred_at=occurred_at,
        status=status.upper(),
        order=_order_of_items(event.account, items),
        entries=[
            tracking_entry(
                status=status.upper(),
                at=occurred_at,
                event=platform_event,
                location=payload.get("locationId"),
            )
        ],
    )
    if current:
        shipment_publish(
            event=event, event_type=event_type, shipment=shipment,
            location_id=payload.get("locationId"),
            items=[_item_summary(item) for item in items],
        )  # fmt: skip


def order_event(event: InboundEvent, payload: dict, *, event_type: str) -> None:
    """An older ORDER_*/PAYMENT_UPDATED notification: orders and line items, then order.*."""
    attributes = _attributes(payload)
    orders = order_items_upsert(
        account=event.account,
        items=_items(attributes),
        occurred_at=_occurred_at(payload),
        payment_status=str(attributes.get("paymentStatus") or ""),
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
            shipment_id=str(payload["shipmentId"]),
            platform_event=payload["eventType"],
            line_items=[
                {"order_item_id": line.external_id, "sku": line.sku, "quantity": line.quantity}
                for line in order.line_items.order_by("pk")
            ],
        ),
    )


def return_event(event: InboundEvent, payload: dict) -> None:
    """A return_* notification: the return as a reverse shipment, then return.created/updated."""
    attributes = _attributes(payload)
    occurred_at = _occurred_at(payload)
    items = _items(attributes, "returnItems")
    first = items[0] if items else {}
    platform_event = payload["eventType"]
    status = str(attributes.get("status") or platform_event).upper()
    return_id = str(payload["returnId"])
    shipment, current = shipment_apply(
        account=event.account,
        external_id=f"return-{return_id}",
        occurred_at=occurred_at,
        status=status,
        awb=str(first.get("trackingId") or ""),
        courier=str(first.get("courierName") or ""),
        order=_order_of_items(event.account, items),
        entries=[tracking_entry(status=status, at=occurred_at, event=platform_event)],
    )
    if current:
        shipment_publish(
            event=event,
            event_type="return.created" if platform_event == "return_created" else "return.updated",
            shipment=shipment,
            return_id=return_id,
            forward_shipment_id=first.get("shipmentId"),
            reason=first.get("reason"),
            items=[_item_summary(item) for item in items],
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
