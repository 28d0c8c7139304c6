"""Payment events (Stripe)."""

from webhooks.catalog import EventType

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

EVENT_TYPES = [
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
]
