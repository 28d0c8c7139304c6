"""Selloship shipment events: real signed requests built from fixtures, and projections."""

import json

import pytest

from channels_app.commerce.models import Order, Shipment
from channels_app.models import ChannelAccount, InboundEvent
from channels_app.platforms.selloship.platform import selloship_signature
from channels_app.platforms.selloship.tests.case import ACCOUNT_ID, selloship
from channels_app.testing import process_received, published_types
from subscriptions.models import Delivery
from subscriptions.services import subscription_create
from webhooks.models import Event

pytestmark = pytest.mark.django_db

AWB = "1490811234567"


@pytest.fixture
def account(user):
    return selloship.account_create(user)


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
    body = selloship.fixture("shipment_created")

    first = selloship.post(client, body, event_id="evt-1")
    again = selloship.post(client, body, event_id="evt-1")

    assert first.status_code == 200
    assert first.json()["status"] == "received"
    assert again.json()["status"] == "duplicate"
    event = InboundEvent.objects.get()
    assert (event.topic, event.external_id, event.account) == ("SHIPMENT_CREATED", "evt-1", account)
    assert "X-Selloship-Signature" not in event.headers


def test_without_an_event_id_identical_bodies_are_duplicates(client, account):
    body = selloship.fixture("shipment_created")
    selloship.post(client, body, event_id=None)
    assert selloship.post(client, body, event_id=None).json()["status"] == "duplicate"
    assert InboundEvent.objects.count() == 1


@pytest.mark.parametrize("path", ["/api/webhooks/selloship", "/api/v1/webhooks/selloship"])
def test_every_mount_receives(client, account, path):
    body = selloship.fixture("shipment_created")
    assert (
        selloship.post(
            client, body, headers=selloship.signed_headers(body, path), path=path
        ).status_code
        == 200
    )


def test_a_tampered_or_misattributed_request_is_401_and_stores_nothing(client, user, account):
    ChannelAccount.objects.create(
        owner=user, platform="selloship", name="Other", external_id="seller-7", secret="other"
    )
    body = selloship.fixture("shipment_created")
    tampered = body.replace(b"Delhivery", b"Bluedart")

    responses = [
        selloship.post(client, tampered, headers=selloship.signed_headers(body, "t1")),
        selloship.post(client, body, event_id="t2", secret="wrong"),
        # Signed correctly, but by another account than the one it claims to be.
        selloship.post(client, body, event_id="t3", secret="other"),
        selloship.post(client, body, event_id="t4", account_id="nobody"),
        selloship.post(client, body, headers={"X-Selloship-Account": ACCOUNT_ID}),
    ]

    assert [r.status_code for r in responses] == [401] * 5
    assert InboundEvent.objects.count() == 0


def test_a_known_event_without_an_awb_is_422(client, account):
    body = json.dumps({"event": "SHIPMENT_UPDATED", "status": "IN_TRANSIT"}).encode()
    response = selloship.post(client, body, event_id="e1")
    no_event = json.dumps({"awb": AWB}).encode()

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "awb"]
    assert selloship.post(client, no_event, event_id="e2").status_code == 422
    assert InboundEvent.objects.count() == 0


def test_unknown_events_are_stored_and_ignored(client, account):
    body = json.dumps({"event": "WALLET_RECHARGED", "amount": 500}).encode()
    assert selloship.post(client, body, event_id="w1").status_code == 200
    process_received()

    assert InboundEvent.objects.get().status == InboundEvent.Status.IGNORED
    assert Event.objects.count() == 0


# Projections and internal events


def test_a_created_shipment_projects_and_links_the_owners_order(client, user, account, shop_order):
    subscription = subscription_create(
        owner=user, url="https://example.com/hooks", event_types=["shipment.created"]
    )

    selloship.deliver(client, "shipment_created", event_id="evt-1")

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
    selloship.deliver(client, "shipment_created", event_id="evt-1")
    selloship.deliver(client, "shipment_updated", event_id="evt-2")
    selloship.deliver(client, "shipment_delivered", event_id="evt-3")

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
    assert published_types() == ["shipment.created", "shipment.updated", "shipment.delivered"]


def test_an_older_update_never_overwrites_newer_shipment_data(client, account):
    selloship.deliver(client, "shipment_delivered", event_id="evt-3")
    selloship.deliver(client, "shipment_updated", event_id="evt-2")  # sent earlier, arrived later

    shipment = Shipment.objects.get()
    assert shipment.status == "DELIVERED"
    assert shipment.remote_updated_at.isoformat() == "2024-05-05T08:40:00+00:00"
    assert len(shipment.tracking_history) == 5  # its scans are still history
    assert published_types() == ["shipment.delivered"]
    assert InboundEvent.objects.filter(status=InboundEvent.Status.PROCESSED).count() == 2


def test_times_without_an_offset_are_read_as_utc_and_compare(client, account):
    for number, updated_at in enumerate(["2024-05-03 08:30:00", "2024-05-04 09:00:00"]):
        body = json.dumps(
            {
                "event": "SHIPMENT_UPDATED",
                "awb": AWB,
                "status": f"S{number}",
                "updated_at": updated_at,
            }
        ).encode()
        assert selloship.post(client, body, event_id=f"naive-{number}").status_code == 200
    process_received()

    shipment = Shipment.objects.get()
    assert shipment.status == "S1"
    assert shipment.remote_updated_at.isoformat() == "2024-05-04T09:00:00+00:00"
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {"processed"}


def test_return_to_origin_is_its_own_event(client, account):
    selloship.deliver(client, "shipment_created", event_id="evt-1")
    selloship.deliver(client, "shipment_rto", event_id="evt-4")

    assert Shipment.objects.get().status == "RTO_INITIATED"
    assert published_types() == ["shipment.created", "shipment.rto"]


def test_an_order_of_another_owner_is_never_linked(client, account, other_user):
    stranger = ChannelAccount.objects.create(
        owner=other_user, platform="shopify", name="Theirs", external_id="theirs.myshopify.com"
    )
    Order.objects.create(account=stranger, external_id="9", name="#1001")

    selloship.deliver(client, "shipment_created", event_id="evt-1")

    assert Shipment.objects.get().order is None


def test_an_ambiguous_order_id_is_left_unlinked(client, user, account, shop_order):
    flipkart = ChannelAccount.objects.create(
        owner=user, platform="flipkart", name="Flipkart", external_id="fk-app-1"
    )
    Order.objects.create(account=flipkart, external_id="#1001")

    selloship.deliver(client, "shipment_created", event_id="evt-1")

    assert Shipment.objects.get().order is None


@pytest.mark.parametrize(
    ("fixture", "event_type"),
    [
        ("shipment_created", "shipment.created"),
        ("shipment_updated", "shipment.updated"),
        ("shipment_delivered", "shipment.delivered"),
        ("shipment_rto", "shipment.rto"),
    ],
)
def test_every_fixture_projects_and_publishes(client, account, fixture, event_type):
    selloship.check_webhook(client, fixture, event_type=event_type, data={"awb": AWB})
    assert Shipment.objects.get().awb == AWB
