"""Selloship shipment events: real signed requests built from fixtures, and projections."""

import json
from pathlib import Path

import pytest

from channels_app.commerce.models import Order, Shipment
from channels_app.models import ChannelAccount, InboundEvent
from channels_app.platforms.selloship.platform import selloship_signature
from channels_app.processing import inbound_event_process
from subscriptions.models import Delivery
from subscriptions.services import subscription_create
from webhooks.models import Event

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ACCOUNT_ID = "seller-42"
SECRET = "ss-secret"
AWB = "1490811234567"


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def signed_headers(body: bytes, event_id: str | None, *, secret: str = SECRET,
                   account_id: str = ACCOUNT_ID) -> dict:  # fmt: skip
    headers = {
        "HTTP_X_SELLOSHIP_ACCOUNT": account_id,
        "HTTP_X_SELLOSHIP_SIGNATURE": selloship_signature(secret, body),
    }
    if event_id is not None:
        headers["HTTP_X_SELLOSHIP_EVENT_ID"] = event_id
    return headers


def post(client, body: bytes, headers: dict, path: str = "/webhooks/selloship"):
    return client.post(path, body, content_type="application/json", **headers)


def process_all() -> None:
    for event in InboundEvent.objects.filter(status=InboundEvent.Status.RECEIVED).order_by("pk"):
        inbound_event_process(event=event)


def deliver(client, name: str, event_id: str) -> None:
    body = fixture(name)
    assert post(client, body, signed_headers(body, event_id)).status_code == 200
    process_all()


def event_types() -> list[str]:
    return list(Event.objects.order_by("pk").values_list("event_type", flat=True))


@pytest.fixture
def account(user):
    return ChannelAccount.objects.create(
        owner=user, platform="selloship", name="Selloship", external_id=ACCOUNT_ID, secret=SECRET
    )


@pytest.fixture
def shop_order(user):
    """The order Selloship ships, taken on the same owner's Shopify store."""
    shop = ChannelAccount.objects.create(
        owner=user, platform="shopify", name="Shop", external_id="example.myshopify.com"
    )
    return Order.objects.create(account=shop, external_id="820982911946154508", name="#1001")


# Signature scheme


def test_the_signature_is_prefixed_hex_hmac_sha256_of_the_body():
    # Known answer: printf '%s' '{"event":"x"}' | openssl dgst -sha256 -hmac ss-secret
    assert selloship_signature("ss-secret", b'{"event":"x"}') == (
        "sha256=2bbfdf5b8a2217f68d9c998941708a98dbddc879020fe56bf4ac0156d791e4e4"
    )


# Receiving


def test_a_signed_event_is_stored_once_and_a_retry_is_a_duplicate(client, account):
    body = fixture("shipment_created")

    first = post(client, body, signed_headers(body, "evt-1"))
    again = post(client, body, signed_headers(body, "evt-1"))

    assert first.status_code == 200
    assert first.json()["status"] == "received"
    assert again.json()["status"] == "duplicate"
    event = InboundEvent.objects.get()
    assert (event.topic, event.external_id, event.account) == ("SHIPMENT_CREATED", "evt-1", account)
    assert "X-Selloship-Signature" not in event.headers


def test_without_an_event_id_identical_bodies_are_duplicates(client, account):
    body = fixture("shipment_created")
    post(client, body, signed_headers(body, None))
    assert post(client, body, signed_headers(body, None)).json()["status"] == "duplicate"
    assert InboundEvent.objects.count() == 1


@pytest.mark.parametrize("path", ["/api/webhooks/selloship", "/api/v1/webhooks/selloship"])
def test_every_mount_receives(client, account, path):
    body = fixture("shipment_created")
    assert post(client, body, signed_headers(body, path), path).status_code == 200


def test_a_tampered_or_misattributed_request_is_401_and_stores_nothing(client, user, account):
    ChannelAccount.objects.create(
        owner=user, platform="selloship", name="Other", external_id="seller-7", secret="other"
    )
    body = fixture("shipment_created")
    tampered = body.replace(b"Delhivery", b"Bluedart")

    responses = [
        post(client, tampered, signed_headers(body, "t1")),
        post(client, body, signed_headers(body, "t2", secret="wrong")),
        # Signed correctly, but by another account than the one it claims to be.
        post(client, body, signed_headers(body, "t3", secret="other")),
        post(client, body, signed_headers(body, "t4", account_id="nobody")),
        post(client, body, {"HTTP_X_SELLOSHIP_ACCOUNT": ACCOUNT_ID}),
    ]

    assert [r.status_code for r in responses] == [401] * 5
    assert InboundEvent.objects.count() == 0


def test_a_known_event_without_an_awb_is_422(client, account):
    body = json.dumps({"event": "SHIPMENT_UPDATED", "status": "IN_TRANSIT"}).encode()
    response = post(client, body, signed_headers(body, "e1"))
    no_event = json.dumps({"awb": AWB}).encode()

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "awb"]
    assert post(client, no_event, signed_headers(no_event, "e2")).status_code == 422
    assert InboundEvent.objects.count() == 0


def test_unknown_events_are_stored_and_ignored(client, account):
    body = json.dumps({"event": "WALLET_RECHARGED", "amount": 500}).encode()
    assert post(client, body, signed_headers(body, "w1")).status_code == 200
    process_all()

    assert InboundEvent.objects.get().status == InboundEvent.Status.IGNORED
    assert Event.objects.count() == 0


# Projections and internal events


def test_a_created_shipment_projects_and_links_the_owners_order(client, user, account, shop_order):
    subscription = subscription_create(
        owner=user, url="https://example.com/hooks", event_types=["shipment.created"]
    )

    deliver(client, "shipment_created", "evt-1")

    shipment = Shipment.objects.get()
    assert (shipment.account, shipment.external_id, shipment.awb, shipment.courier) == (
        account,
        AWB,
        AWB,
        "Delhivery",
    )
    assert shipment.status == "MANIFESTED"
    assert shipment.order == shop_order
    event = Event.objects.get()
    assert event.event_type == "shipment.created"
    assert event.source == "selloship"
    assert event.data["order_id"] == "820982911946154508"
    assert event.data["channel_order_id"] == "#1001"
    assert Delivery.objects.get().subscription == subscription


def test_scans_merge_into_the_history_without_repeats(client, account):
    deliver(client, "shipment_created", "evt-1")
    deliver(client, "shipment_updated", "evt-2")
    deliver(client, "shipment_delivered", "evt-3")

    shipment = Shipment.objects.get()
    assert shipment.status == "DELIVERED"
    assert [entry["status"] for entry in shipment.tracking_history] == [
        "MANIFESTED",
        "PICKED_UP",
        "IN_TRANSIT",
        "OUT_FOR_DELIVERY",
        "DELIVERED",
    ]
    assert shipment.tracking_history[2]["location"] == "Bhiwandi Hub"
    assert event_types() == ["shipment.created", "shipment.updated", "shipment.delivered"]


def test_an_older_update_never_overwrites_newer_shipment_data(client, account):
    deliver(client, "shipment_delivered", "evt-3")
    deliver(client, "shipment_updated", "evt-2")  # sent earlier, arrived later

    shipment = Shipment.objects.get()
    assert shipment.status == "DELIVERED"
    assert shipment.remote_updated_at.isoformat() == "2024-05-05T08:40:00+00:00"
    assert len(shipment.tracking_history) == 5  # its scans are still history
    assert event_types() == ["shipment.delivered"]
    assert InboundEvent.objects.filter(status=InboundEvent.Status.PROCESSED).count() == 2


def test_times_without_an_offset_are_read_as_utc_and_compare(client, account):
    for number, updated_at in enumerate(["2024-05-03 08:30:00", "2024-05-04 09:00:00"]):
        body = json.dumps({"event": "SHIPMENT_UPDATED", "awb": AWB, "status": f"S{number}",
                           "updated_at": updated_at}).encode()  # fmt: skip
        assert post(client, body, signed_headers(body, f"naive-{number}")).status_code == 200
    process_all()

    shipment = Shipment.objects.get()
    assert shipment.status == "S1"
    assert shipment.remote_updated_at.isoformat() == "2024-05-04T09:00:00+00:00"
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {"processed"}


def test_return_to_origin_is_its_own_event(client, account):
    deliver(client, "shipment_created", "evt-1")
    deliver(client, "shipment_rto", "evt-4")

    assert Shipment.objects.get().status == "RTO_INITIATED"
    assert event_types() == ["shipment.created", "shipment.rto"]


def test_an_order_of_another_owner_is_never_linked(client, account, other_user):
    stranger = ChannelAccount.objects.create(
        owner=other_user, platform="shopify", name="Theirs", external_id="theirs.myshopify.com"
    )
    Order.objects.create(account=stranger, external_id="9", name="#1001")

    deliver(client, "shipment_created", "evt-1")

    assert Shipment.objects.get().order is None


def test_an_ambiguous_order_id_is_left_unlinked(client, user, account, shop_order):
    flipkart = ChannelAccount.objects.create(
        owner=user, platform="flipkart", name="Flipkart", external_id="fk-app-1"
    )
    Order.objects.create(account=flipkart, external_id="#1001")

    deliver(client, "shipment_created", "evt-1")

    assert Shipment.objects.get().order is None
