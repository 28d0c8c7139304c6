"""Shopify topics into the orders projection and internal events.

Shopify retries and does not keep order: an update whose `updated_at` is older than what is
stored is recorded but does not overwrite newer data.
"""

import logging
from decimal import Decimal

from django.utils import timezone

from channels_app.commerce.models import Fulfillment, LineItem, Order, Refund
from channels_app.commerce.orders import decimal_or_none, is_newer, order_event_data
from channels_app.models import InboundEvent
from channels_app.platforms.shopify.models import InventoryLevel, Product, Store, Variant
from channels_app.services import inbound_event_publish
from webhooks.untrusted import aware_time

logger = logging.getLogger(__name__)


def _publish(event: InboundEvent, event_type: str, order: Order, **extra) -> None:
    inbound_event_publish(
        event=event,
        event_type=event_type,
        data=order_event_data(order, shop=event.account.external_id, **extra),
    )


def order_upsert(event: InboundEvent, payload: dict, *, event_type: str) -> None:
    updated_at = aware_time(payload.get("updated_at"))
    order, created = Order.objects.select_for_update().get_or_create(
        account=event.account, external_id=str(payload["id"])
    )
    if not is_newer(order.remote_updated_at, updated_at):
        return  # an older (or repeated) update: keep the newer data
    order.name = payload.get("name") or ""
    order.email = payload.get("email") or ""
    order.financial_status = payload.get("financial_status") or ""
    order.fulfillment_status = payload.get("fulfillment_status") or ""
    order.total_price = decimal_or_none(payload.get("total_price"))
    order.currency = payload.get("currency") or ""
    order.cancelled_at = aware_time(payload.get("cancelled_at"))
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
                "price": decimal_or_none(item.get("price")),
            },
        )
    _publish(event, "order.created" if created else event_type, order)


def _order(event: InboundEvent, order_id) -> Order:
    return Order.objects.get_or_create(account=event.account, external_id=str(order_id))[0]


def refund_create(event: InboundEvent, payload: dict) -> None:
    order = _order(event, payload["order_id"])
    amount = sum(
        (decimal_or_none(t.get("amount")) or Decimal(0)) for t in payload.get("transactions") or []
    )
    Refund.objects.update_or_create(
        order=order,
        external_id=str(payload["id"]),
        defaults={"amount": amount, "note": payload.get("note") or ""},
    )
    _publish(event, "refund.created", order, refund_id=str(payload["id"]), amount=str(amount))


def fulfillment_create(event: InboundEvent, payload: dict) -> None:
    order = _order(event, payload["order_id"])
    Fulfillment.objects.update_or_create(
        order=order,
        external_id=str(payload["id"]),
        defaults={
            "status": payload.get("status") or "",
            "tracking_number": payload.get("tracking_number") or "",
            "tracking_company": payload.get("tracking_company") or "",
            "tracking_url": payload.get("tracking_url") or "",
        },
    )
    order.fulfillment_status = "fulfilled"
    order.save(update_fields=["fulfillment_status", "updated_at"])
    _publish(
        event, "order.fulfilled", order,
        tracking_number=payload.get("tracking_number"),
        tracking_company=payload.get("tracking_company"),
        tracking_url=payload.get("tracking_url"),
    )  # fmt: skip


def product_upsert(event: InboundEvent, payload: dict) -> None:
    updated_at = aware_time(payload.get("updated_at"))
    product, _ = Product.objects.select_for_update().get_or_create(
        account=event.account, external_id=str(payload["id"])
    )
    if not is_newer(product.remote_updated_at, updated_at):
        return
    product.title = payload.get("title") or ""
    product.status = payload.get("status") or ""
    product.remote_updated_at = updated_at
    product.save()
    for variant in payload.get("variants") or []:
        Variant.objects.update_or_create(
            product=product,
            external_id=str(variant["id"]),
            defaults={
                "sku": variant.get("sku") or "",
                "price": decimal_or_none(variant.get("price")),
                "inventory_item_id": str(variant.get("inventory_item_id") or ""),
            },
        )
    inbound_event_publish(
        event=event,
        event_type="product.updated",
        data={"product_id": product.external_id, "title": product.title,
              "status": product.status, "shop": event.account.external_id},
    )  # fmt: skip


def inventory_level_update(event: InboundEvent, payload: dict) -> None:
    item_id = str(payload["inventory_item_id"])
    updated_at = aware_time(payload.get("updated_at"))
    variant = Variant.objects.filter(
        product__account=event.account, inventory_item_id=item_id
    ).first()
    if variant is None:
        logger.warning(
            "shopify.inventory_item_unknown",
            extra={"inventory_item_id": item_id, "shop": event.account.external_id},
        )
    level, _ = InventoryLevel.objects.select_for_update().get_or_create(
        account=event.account, inventory_item_id=item_id, location_id=str(payload["location_id"])
    )
    if not is_newer(level.remote_updated_at, updated_at):
        return
    level.available = payload.get("available")
    level.variant = variant
    level.remote_updated_at = updated_at
    level.save()
    inbound_event_publish(
        event=event,
        event_type="inventory.updated",
        data={"inventory_item_id": item_id, "location_id": level.location_id,
              "available": level.available, "sku": variant.sku if variant else None,
              "shop": event.account.external_id},
    )  # fmt: skip


def app_uninstalled(event: InboundEvent, payload: dict) -> None:
    Store.objects.update_or_create(
        account=event.account, defaults={"installed": False, "uninstalled_at": timezone.now()}
    )
    inbound_event_publish(
        event=event, event_type="store.uninstalled", data={"shop": event.account.external_id}
    )


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
    "refunds/create": refund_create,
    "fulfillments/create": fulfillment_create,
    "products/create": product_upsert,
    "products/update": product_upsert,
    "inventory_levels/update": inventory_level_update,
    "app/uninstalled": app_uninstalled,
}
