"""Stripe events into the payments projection and internal events.

Stripe does not guarantee order: an event older (`created`) than the one that last wrote an
object updates nothing.
"""

from channels_app.models import InboundEvent
from channels_app.platforms.stripe.models import Payment
from channels_app.services import inbound_event_publish
from webhooks.untrusted import INT64, Fields

# Which field holds the amount differs by object; the first one present is the amount.
AMOUNT_FIELDS = ("amount", "amount_total", "amount_paid")


def _project(event: InboundEvent, payload: dict, *, kind: str) -> Payment | None:
    fields = Fields(payload)
    obj = fields.object("data").object("object")
    remote_created = fields.integer("created", minimum=0, maximum=INT64[1], default=0)
    amount = next(
        (obj.integer(name, minimum=INT64[0], maximum=INT64[1]) for name in AMOUNT_FIELDS
         if name in obj),
        None,
    )  # fmt: skip
    status = obj.text("status", max_length=50)
    amount_refunded = obj.integer("amount_refunded", minimum=0, maximum=INT64[1], default=0)
    currency = obj.text("currency", max_length=3).upper()
    customer = obj.text("customer", max_length=100)  # an id: Stripe never expands webhooks
    payment, created = Payment.objects.select_for_update().get_or_create(
        account=event.account,
        external_id=obj.text("id", max_length=100, required=True),
        defaults={"kind": kind},
    )
    if not created and payment.remote_created > remote_created:
        return None
    payment.status = status or payment.status
    payment.amount = amount
    payment.amount_refunded = amount_refunded
    payment.currency = currency
    payment.customer = customer
    payment.remote_created = remote_created
    payment.save()
    return payment


def _handler(kind: str, event_type: str | None):
    def handle(event: InboundEvent, payload: dict) -> None:
        payment = _project(event, payload, kind=kind)
        if payment is None or event_type is None:
            return
        inbound_event_publish(
            event=event,
            event_type=event_type,
            data={
                "payment_id": payment.external_id,
                "kind": kind,
                "status": payment.status,
                "amount": payment.amount,
                "amount_refunded": payment.amount_refunded,
                "currency": payment.currency,
                "customer": payment.customer,
                "stripe_event": event.topic,
            },
        )

    return handle


TYPES = {
    "payment_intent.succeeded": _handler("payment_intent", "payment.succeeded"),
    "payment_intent.payment_failed": _handler("payment_intent", "payment.failed"),
    "charge.refunded": _handler("charge", "refund.created"),
    "checkout.session.completed": _handler("checkout_session", "payment.succeeded"),
    "invoice.paid": _handler("invoice", "payment.succeeded"),
    "invoice.payment_failed": _handler("invoice", "payment.failed"),
    # Subscriptions are projected; the catalog has no subscription events to publish yet.
    "customer.subscription.created": _handler("subscription", None),
    "customer.subscription.updated": _handler("subscription", None),
    "customer.subscription.deleted": _handler("subscription", None),
}
