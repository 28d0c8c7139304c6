"""Internal events the inbound channels publish, registered in the shared catalog."""

from channels_app.models import ChannelAccount
from channels_app.platforms.qualia.platform import ACTIVITY_TYPES
from webhooks.catalog import EventType

_QUALIA_EXAMPLE = {
    "order_id": "bK8bg5tajNkDpDk25",
    "description": "Marty McFly sent you a message.",
    "message_id": "LEPAjMB43myH8aGcP",
}

_ORDER_EXAMPLE = {
    "order_id": "820982911946154508",
    "name": "#1001",
    "financial_status": "paid",
    "fulfillment_status": None,
    "total_price": "199.00",
    "currency": "USD",
    "shop": "example.myshopify.com",
}

_PAYMENT_EXAMPLE = {
    "payment_id": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
    "kind": "payment_intent",
    "status": "succeeded",
    "amount": 2000,
    "amount_refunded": 0,
    "currency": "USD",
    "customer": "cus_NffrFeUfNV2Hib",
    "stripe_event": "payment_intent.succeeded",
}

_SHIPMENT_EXAMPLE = {
    "shipment_id": "d133588f-b0ac-443b-99b4-7ac8648a0f89",
    "awb": "FMPP0123456789",
    "courier": "Ekart Logistics",
    "status": "SHIPPED",
    "order_id": "OD108833803073636000",
    "updated_at": "2024-04-08T17:35:15+00:00",
    "platform_event": "shipment_shipped",
    "account": "flipkart-app-id",
}

_RETURN_EXAMPLE = {
    **_SHIPMENT_EXAMPLE,
    "shipment_id": "return-12163284937418190",
    "awb": "FMPR0123456789",
    "status": "RETURN_CREATED",
    "platform_event": "return_created",
    "return_id": "12163284937418190",
    "forward_shipment_id": "d133588f-b0ac-443b-99b4-7ac8648a0f89",
    "reason": "DAMAGED_PRODUCT",
}

EVENT_TYPES = [
    EventType("order.created", "A store received a new order.", _ORDER_EXAMPLE, "commerce"),
    EventType("order.updated", "An order changed.", _ORDER_EXAMPLE, "commerce"),
    EventType(
        "order.cancelled",
        "An order was cancelled.",
        {**_ORDER_EXAMPLE, "financial_status": "refunded"},
        "commerce",
    ),
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
    EventType(
        "order.fulfilled",
        "An order was fulfilled, with its tracking.",
        {
            **_ORDER_EXAMPLE,
            "fulfillment_status": "fulfilled",
            "tracking_number": "1Z999",
            "tracking_company": "UPS",
            "tracking_url": "https://www.ups.com/track?tracknum=1Z999",
        },
        "commerce",
    ),
    EventType(
        "product.updated",
        "A product was created or changed.",
        {
            "product_id": "632910392",
            "title": "IPod Nano",
            "status": "active",
            "shop": "example.myshopify.com",
        },
        "commerce",
    ),
    EventType(
        "inventory.updated",
        "Stock changed at a location.",
        {
            "inventory_item_id": "808950810",
            "location_id": "655441491",
            "available": 5,
            "sku": "IPOD-342-N",
            "shop": "example.myshopify.com",
        },
        "commerce",
    ),
    EventType(
        "store.uninstalled",
        "The app was uninstalled from a store; its data is kept.",
        {"shop": "example.myshopify.com"},
        "commerce",
    ),
    EventType("payment.succeeded", "A payment succeeded.", _PAYMENT_EXAMPLE, "payments"),
    EventType(
        "payment.failed",
        "A payment failed.",
        {**_PAYMENT_EXAMPLE, "status": "requires_payment_method"},
        "payments",
    ),
    EventType(
        "refund.created",
        "A payment was refunded.",
        {**_PAYMENT_EXAMPLE, "kind": "charge", "amount_refunded": 2000},
        "payments",
    ),
    EventType(
        "shipment.created",
        "A marketplace or shipping aggregator created a shipment (Flipkart, Selloship).",
        {**_SHIPMENT_EXAMPLE, "status": "CREATED", "platform_event": "shipment_created"},
        "shipping",
    ),
    EventType(
        "shipment.updated",
        "A shipment moved on: ready to dispatch, shipped, in transit.",
        _SHIPMENT_EXAMPLE,
        "shipping",
    ),
    EventType(
        "shipment.delivered",
        "A shipment was delivered.",
        {**_SHIPMENT_EXAMPLE, "status": "DELIVERED", "platform_event": "shipment_delivered"},
        "shipping",
    ),
    EventType(
        "shipment.cancelled",
        "A shipment, or items in it, was cancelled before delivery.",
        {**_SHIPMENT_EXAMPLE, "status": "CANCELLED", "platform_event": "shipment_cancelled"},
        "shipping",
    ),
    EventType(
        "shipment.rto",
        "A shipment is returning to origin (refused or undeliverable).",
        {
            **_SHIPMENT_EXAMPLE,
            "awb": "1490811234567",
            "courier": "Delhivery",
            "status": "RTO_INITIATED",
            "platform_event": "SHIPMENT_RTO",
            "account": "seller-42",
        },
        "shipping",
    ),
    EventType(
        "return.created",
        "A customer return was requested; its pickup is a reverse shipment.",
        _RETURN_EXAMPLE,
        "shipping",
    ),
    EventType(
        "return.updated",
        "A customer return moved on: picked up, completed, cancelled.",
        {**_RETURN_EXAMPLE, "status": "RETURN_COMPLETED", "platform_event": "return_completed"},
        "shipping",
    ),
    EventType(
        "amazon.feed.finished",
        "Amazon finished processing a feed (SP-API FEED_PROCESSING_FINISHED).",
        {
            "feed_id": "53347018456",
            "feed_type": "POST_PRODUCT_DATA",
            "processing_status": "DONE",
            "result_feed_document_id": "amzn1.tortuga.3.edbcd0d8-3434-8222.URUTI57URI9BMZ",
            "seller_id": "A3TH9S8BH6GOGM",
        },
        "amazon",
    ),
    EventType(
        "amazon.report.finished",
        "Amazon finished processing a report (SP-API REPORT_PROCESSING_FINISHED).",
        {
            "report_id": "54517018502",
            "report_type": "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA",
            "processing_status": "DONE",
            "report_document_id": "amzn1.tortuga.3.edbcd0d8-3434-8222.REP4567URI9BMZ",
            "seller_id": "A3TH9S8BH6GOGM",
        },
        "amazon",
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


def source_namespaces(owner) -> dict[str, str]:
    """Each of `owner`'s configured sources (an account with its own verification) is a
    namespace of types."""
    names = (
        ChannelAccount.objects.filter(owner=owner)
        .exclude(verification="")
        .values_list("platform", flat=True)
        .distinct()
    )
    return {name: f"Events received from the configured source `{name}`." for name in names}
