"""Shopify topics into the orders projection and internal events.

Shopify retries and does not keep order: an update whose `updated_at` is older than what is
stored is recorded but does not overwrite newer data.
"""

from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_datetime

from channels_app.models import InboundEvent, LineItem, Order
from webhooks.services import event_publish


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def _publish(event: InboundEvent, event_type: str, order: Order) -> None:
    event_publish(
        owner=event.account.owner,
        event_type=event_type,
        data={
            "order_id": order.external_id,
            "name": order.name,
            "financial_status": order.financial_status,
            "fulfillment_status": order.fulfillment_status,
            "total_price": str(order.total_price) if order.total_price is not None else None,
            "currency": order.currency,
            "shop": event.account.external_id,
        },
        idempotency_key=f"inbound:{event.pk}",
        source="shopify",
    )


def order_upsert(event: InboundEvent, payload: dict, *, event_type: str) -> None:
    updated_at = parse_datetime(payload.get("updated_at") or "")
    order, created = Order.objects.select_for_update().get_or_create(
        account=event.account, external_id=str(payload["id"])
    )
    if (
        not created
        and order.remote_updated_at
        and updated_at
        and updated_at <= order.remote_updated_at
    ):
        return  # an older (or repeated) update: keep the newer data
    order.name = payload.get("name") or ""
    order.email = payload.get("email") or ""
    order.financial_status = payload.get("financial_status") or ""
    order.fulfillment_status = payload.get("fulfillment_status") or ""
    order.total_price = _decimal(payload.get("total_price"))
    order.currency = payload.get("currency") or ""
    order.cancelled_at = parse_datetime(payload.get("cancelled_at") or "")
    order.remote_updated_at = updated_at
    order.save()
    for item in payload.get("line_items") or []:
        LineItem.objects.update_or_create(
            order=order,
            external_id=str(item.get("id")),
            defaults={
                "sku": item.get("sku") or "",
                "title": item.get("title") or "",
                "quantity": int(item.get("quantity") or 0),
                "price": _decimal(item.get("price")),
            },
        )
    _publish(event, "order.created" if created else event_type, order)


TOPICS = {
    "orders/create": lambda event, payload: order_upsert(
        event, payload, event_type="order.updated"
    ),
    "orders/updated": lambda event, payload: order_upsert(
        event, payload, event_type="order.updated"
    ),
    "orders/cancelled": lambda event, payload: order_upsert(
        event, payload, event_type="order.cancelled"
    ),
}
