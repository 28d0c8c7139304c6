"""Shopify topics into the orders projection and internal events.

Shopify retries and does not keep order: an update whose `updated_at` is older than what is
stored is recorded but does not overwrite newer data. Every field is read through
webhooks.untrusted.Fields, so a payload of the wrong shape fails its row with the field's path
instead of projecting `None` or a truncated value.
"""

import logging
from decimal import Decimal

from django.utils import timezone

from channels_app.commerce.models import Fulfillment, LineItem, Order, Refund
from channels_app.commerce.orders import ID_LENGTH, MONEY, QUANTITY, is_newer, order_event_data
from channels_app.models import InboundEvent
from channels_app.platforms.shopify.models import InventoryLevel, Product, Store, Variant
from channels_app.services import inbound_event_publish
from webhooks.untrusted import INT32, Fields

logger = logging.getLogger(__name__)


def _publish(event: InboundEvent, event_type: str, order: Order, **extra) -> None:
    inbound_event_publish(
        event=event,
        event_type=event_type,
        data=order_event_data(order, shop=event.account.external_id, **extra),
    )


def _line_item(item: Fields) -> tuple[str, dict]:
    return item.identifier("id", max_length=ID_LENGTH), {
        "sku": item.text("sku", max_length=255),
        "title": item.text("title", max_length=500),
        "quantity": item.integer("quantity", **QUANTITY, default=0),
        "price": item.decimal("price", **MONEY),
    }


def order_upsert(event: InboundEvent, payload: dict, *, event_type: str) -> None:
    fields = Fields(payload)
    updated_at = fields.time("updated_at")
    values = {
        "name": fields.text("name", max_length=100),
        "email": fields.text("email", max_length=255),
        "financial_status": fields.text("financial_status", max_length=50),
        "fulfillment_status": fields.text("fulfillment_status", max_length=50),
        "total_price": fields.decimal("total_price", **MONEY),
        "currency": fields.text("currency", max_length=3),
        "cancelled_at": fields.time("cancelled_at"),
    }
    line_items = [_line_item(item) for item in fields.objects("line_items")]
    order, created = Order.objects.select_for_update().get_or_create(
        account=event.account, external_id=fields.identifier("id", max_length=ID_LENGTH)
    )
    if not is_newer(order.remote_updated_at, updated_at):
        return  # an older (or repeated) update: keep the newer data
    for name, value in values.items():
        setattr(order, name, value)
    order.remote_updated_at = updated_at
    order.save()
    for item_id, defaults in line_items:
        LineItem.objects.update_or_create(order=order, external_id=item_id, defaults=defaults)
    _publish(event, "order.created" if created else event_type, order)


def _order(event: InboundEvent, fields: Fields) -> Order:
    order_id = fields.identifier("order_id", max_length=ID_LENGTH)
    return Order.objects.get_or_create(account=event.account, external_id=order_id)[0]


def refund_create(event: InboundEvent, payload: dict) -> None:
    fields = Fields(payload)
    refund_id = fields.identifier("id", max_length=ID_LENGTH)
    amount = sum(
        (t.decimal("amount", **MONEY) or Decimal(0) for t in fields.objects("transactions")),
        Decimal(0),
    )
    note = fields.text("note", max_length=None)
    order = _order(event, fields)
    Refund.objects.update_or_create(
        order=order, external_id=refund_id, defaults={"amount": amount, "note": note}
    )
    _publish(event, "refund.created", order, refund_id=refund_id, amount=str(amount))


def fulfillment_create(event: InboundEvent, payload: dict) -> None:
    fields = Fields(payload)
    fulfillment_id = fields.identifier("id", max_length=ID_LENGTH)
    tracking = {
        "tracking_number": fields.text("tracking_number", max_length=255),
        "tracking_company": fields.text("tracking_company", max_length=255),
        "tracking_url": fields.text("tracking_url", max_length=2048),
    }
    status = fields.text("status", max_length=50)
    order = _order(event, fields)
    Fulfillment.objects.update_or_create(
        order=order, external_id=fulfillment_id, defaults={"status": status, **tracking}
    )
    order.fulfillment_status = "fulfilled"
    order.save(update_fields=["fulfillment_status", "updated_at"])
    # Tracking Shopify left empty is published as null.
    _publish(
        event, "order.fulfilled", order, **{key: value or None for key, value in tracking.items()}
    )


def _variant(variant: Fields) -> tuple[str, dict]:
    return variant.identifier("id", max_length=ID_LENGTH), {
        "sku": variant.text("sku", max_length=255),
        "price": variant.decimal("price", **MONEY),
        "inventory_item_id": variant.identifier(
            "inventory_item_id", max_length=ID_LENGTH, required=False
        ),
    }


def product_upsert(event: InboundEvent, payload: dict) -> None:
    fields = Fields(payload)
    updated_at = fields.time("updated_at")
    title = fields.text("title", max_length=500)
    status = fields.text("status", max_length=50)
    variants = [_variant(variant) for variant in fields.objects("variants")]
    product, _ = Product.objects.select_for_update().get_or_create(
        account=event.account, external_id=fields.identifier("id", max_length=ID_LENGTH)
    )
    if not is_newer(product.remote_updated_at, updated_at):
        return
    product.title = title
    product.status = status
    product.remote_updated_at = updated_at
    product.save()
    for variant_id, defaults in variants:
        Variant.objects.update_or_create(product=product, external_id=variant_id, defaults=defaults)
    inbound_event_publish(
        event=event,
        event_type="product.updated",
        data={"product_id": product.external_id, "title": product.title,
              "status": product.status, "shop": event.account.external_id},
    )  # fmt: skip


def inventory_level_update(event: InboundEvent, payload: dict) -> None:
    fields = Fields(payload)
    item_id = fields.identifier("inventory_item_id", max_length=ID_LENGTH)
    location_id = fields.identifier("location_id", max_length=ID_LENGTH)
    updated_at = fields.time("updated_at")
    available = fields.integer("available", minimum=INT32[0], maximum=INT32[1])  # may be < 0
    variant = Variant.objects.filter(
        product__account=event.account, inventory_item_id=item_id
    ).first()
    if variant is None:
        logger.warning(
            "shopify.inventory_item_unknown",
            extra={"inventory_item_id": item_id, "shop": event.account.external_id},
        )
    level, _ = InventoryLevel.objects.select_for_update().get_or_create(
        account=event.account, inventory_item_id=item_id, location_id=location_id
    )
    if not is_newer(level.remote_updated_at, updated_at):
        return
    level.available = available
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
