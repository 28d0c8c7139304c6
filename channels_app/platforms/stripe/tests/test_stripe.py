"""Stripe's receiver with requests signed exactly as Stripe documents it."""

import json
import time

import pytest

from channels_app.models import InboundEvent
from channels_app.platforms.stripe.models import Payment
from channels_app.platforms.stripe.platform import stripe_signature
from channels_app.platforms.stripe.tests.case import SECRET, header_for, stripe
from channels_app.processing import inbound_event_process
from webhooks.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(user):
    return stripe.account_create(user)


def test_signature_matches_a_known_answer():
    # printf '1680064028.{}' | openssl dgst -sha256 -hmac whsec_test
    assert stripe_signature("whsec_test", 1680064028, b"{}") == (
        "c1c0259f08b503fda72312cb4767fbc85f6f765bac9234553b3ee2be1289e4cd"
    )


def test_a_signed_event_is_stored_once_and_projected(client, account):
    body = stripe.fixture("payment_intent_succeeded")
    assert stripe.post(client, body).status_code == 200
    assert stripe.post(client, body).json()["status"] == "duplicate"

    inbound_event_process(event=InboundEvent.objects.get())

    payment = Payment.objects.get()
    assert (payment.kind, payment.status, payment.amount, payment.currency) == (
        "payment_intent",
        "succeeded",
        2000,
        "USD",
    )
    assert Event.objects.get().event_type == "payment.succeeded"


def test_any_of_several_v1_signatures_may_match(client, account):
    body = stripe.fixture("charge_refunded")
    at = int(time.time())
    header = f"t={at},v1={'0' * 64},v1={stripe_signature(SECRET, at, body)}"
    assert stripe.post(client, body, headers={"Stripe-Signature": header}).status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "t=1,v1=abc",
        "",
        "v1=abc",
    ],
)
def test_malformed_or_stale_headers_are_401(client, account, header):
    assert (
        stripe.post(
            client, stripe.fixture("charge_refunded"), headers={"Stripe-Signature": header}
        ).status_code
        == 401
    )


def test_a_stale_timestamp_is_401_even_with_a_valid_signature(client, account):
    body = stripe.fixture("charge_refunded")
    response = stripe.post(client, body, at=int(time.time()) - 301)
    assert response.status_code == 401
    assert InboundEvent.objects.count() == 0


def test_a_tampered_body_is_401(client, account):
    body = stripe.fixture("payment_intent_succeeded")
    tampered = body.replace(b"2000", b"1")
    assert (
        stripe.post(client, tampered, headers={"Stripe-Signature": header_for(body)}).status_code
        == 401
    )


def test_unknown_types_are_stored_and_ignored(client, account):
    body = json.dumps(
        {
            "id": "evt_x",
            "type": "customer.created",
            "created": 1,
            "data": {"object": {"id": "cus_1"}},
        }
    ).encode()
    stripe.post(client, body)
    inbound_event_process(event=InboundEvent.objects.get())
    assert InboundEvent.objects.get().status == InboundEvent.Status.IGNORED


def test_an_older_event_does_not_overwrite_the_payment(client, account):
    newer = json.loads(stripe.fixture("payment_intent_succeeded"))
    older = {
        **newer,
        "id": "evt_older",
        "created": newer["created"] - 100,
        "type": "payment_intent.payment_failed",
        "data": {"object": {**newer["data"]["object"], "status": "requires_payment_method"}},
    }
    for payload in (newer, older):
        body = json.dumps(payload).encode()
        stripe.post(client, body)
    for event in InboundEvent.objects.order_by("pk"):
        inbound_event_process(event=event)
    assert Payment.objects.get().status == "succeeded"


def test_a_missing_data_object_is_422(client, account):
    body = json.dumps({"id": "evt_y", "type": "invoice.paid", "data": {}}).encode()
    response = stripe.post(client, body)
    assert response.status_code == 422


def test_a_non_ascii_signature_is_a_401_not_a_500(client, account):
    body = stripe.fixture("payment_intent_succeeded")

    response = stripe.post(
        client, body, headers={"Stripe-Signature": f"t={int(time.time())},v1={'é' * 64}"}
    )

    assert response.status_code == 401
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize(
    ("fixture", "event_type", "data"),
    [
        ("payment_intent_succeeded", "payment.succeeded", {"amount": 2000}),
        ("charge_refunded", "refund.created", {"kind": "charge"}),
    ],
)
def test_every_fixture_projects_and_publishes(client, account, fixture, event_type, data):
    stripe.check_webhook(client, fixture, event_type=event_type, data=data)
    assert Payment.objects.count() == 1
