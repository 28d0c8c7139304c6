"""Events only Shopify publishes: catalogue, stock, and the store itself."""

from webhooks.catalog import EventType

EVENT_TYPES = [
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
]
