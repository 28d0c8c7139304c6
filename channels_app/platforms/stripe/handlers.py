"""Stripe events into the payments projection and internal events.

Stripe does not guarantee order: an event older (`created`) than the one that last wrote an
object updates nothing.
"""

from channels_app.models import InboundEvent
from channels_app.platforms.stripe.models import Payment
from channels_app.services import inbound_event_publish


def _project(event: InboundEvent, payload: dict, *, kind: str) -> Payment | None:
    obj = payload["data"]["object"]
    payment, created = Payment.objects.select_for_update().get_or_create(
        account=event.account, external_id=obj["id"], defaults={"kind": kind}
    )
    if not created and payment.remote_created > payload.get("created", 0):
        return None
    payment.status = obj.get("status") or payment.status
    payment.amount = obj.get("amount", obj.get("amount_total", obj.get("amount_paid")))
    payment.amount_refunded = obj.get("amount_refunded") or 0
    payment.currency = (obj.get("currency") or "").upper()
    payment.customer = obj.get("customer") or ""
    payment.remote_created = payload.get("created", 0)
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
                "stripe_event": payload["type"],
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
