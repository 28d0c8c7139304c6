"""What every commerce platform's order projection shares (Shopify, Amazon, Flipkart).

Platforms retry and do not keep order, so an update names the time it describes and one that
is not newer than what is stored changes nothing; every `order.*` event carries the same
summary of the order, whichever platform it came from.
"""

from datetime import datetime

from channels_app.commerce.models import Order
from webhooks.untrusted import INT32

# How a platform's order fields are read (webhooks.untrusted.Fields), to fit their columns:
# every order, line item, product and variant id column holds 100 characters, every money
# column 14 digits with 2 after the point, a quantity a non-negative PostgreSQL integer.
ID_LENGTH = Order._meta.get_field("external_id").max_length
MONEY = {"max_digits": 14, "decimal_places": 2}
QUANTITY = {"minimum": 0, "maximum": INT32[1]}


def is_newer(stored_at: datetime | None, incoming_at: datetime | None) -> bool:
    """Whether an update at `incoming_at` may overwrite data written at `stored_at`.

    An update without a time, or data that never had one, counts as newer; an equal time does
    not (the same update retried).
    """
    return stored_at is None or incoming_at is None or incoming_at > stored_at


def order_event_data(order: Order, **extra) -> dict:
    """The `data` of an `order.*` event: the order's summary, then the platform's extras."""
    return {
        "order_id": order.external_id,
        "name": order.name,
        "financial_status": order.financial_status,
        "fulfillment_status": order.fulfillment_status or None,  # "" is not fulfilled yet
        "total_price": str(order.total_price) if order.total_price is not None else None,
        "currency": order.currency,
        **extra,
    }
