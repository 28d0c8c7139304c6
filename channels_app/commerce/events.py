"""Order and shipment events: every selling and shipping platform publishes these."""

from webhooks.catalog import EventType

_ORDER_EXAMPLE = {
    "order_id": "820982911946154508",
    "name": "#1001",
    "financial_status": "paid",
    "fulfillment_status": None,
    "total_price": "199.00",
    "currency": "USD",
    "shop": "example.myshopify.com",
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
]
