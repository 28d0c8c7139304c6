"""Flipkart notifications: real FKLOGIN-signed requests built from fixtures, and projections."""

import json

import pytest
import requests

from channels_app.commerce.models import LineItem, Order, Shipment
from channels_app.models import ChannelAccount, InboundEvent
from channels_app.platforms.flipkart.platform import (
    body_hmac,
    fklogin_authorization,
    flipkart_signature,
)
from channels_app.platforms.flipkart.tests.case import flipkart, http_date
from channels_app.processing import inbound_event_process
from channels_app.testing import process_received, published_types
from conftest import child_env, database_url_for_children, start_web_server
from subscriptions.models import Delivery
from subscriptions.services import subscription_create
from webhooks.models import Event

pytestmark = pytest.mark.django_db

SHIPMENT_ID = "d133588f-b0ac-443b-99b4-7ac8648a0f89"


@pytest.fixture
def account(user):
    return flipkart.account_create(user)


# Signature scheme


def test_the_signature_is_sha1_hex_of_date_url_method_and_secret_in_that_order():
    # Known answer computed outside Python: printf '%s' '<date><url>POST<secret>' | sha1sum
    signature = flipkart_signature(
        date="Tue, 02 Apr 2024 10:00:00 GMT",
        url="https://hooks.example.com/webhooks/flipkart",
        method="POST",
        secret="fk-app-secret",
    )
    assert signature == "f040084c0bf0eaa37ec948284811f283e2d6a428"
    assert fklogin_authorization(app_id="fk-app-1", signature=signature) == (
        "FKLOGIN ZmstYXBwLTE6ZjA0MDA4NGMwYmYwZWFhMzdlYzk0ODI4NDgxMWYyODNlMmQ2YTQyOA=="
    )


def test_the_older_body_signature_is_hex_hmac_sha256():
    # Known answer: printf '%s' '{"eventType":"x"}' | openssl dgst -sha256 -hmac fk-app-secret
    assert body_hmac("fk-app-secret", b'{"eventType":"x"}') == (
        "c87b66e61ab1a253ca9b2cde129bab7f64d747311fb4965807e049953985b803"
    )


# Receiving


def test_a_signed_notification_is_stored_once_and_a_retry_is_a_duplicate(client, account):
    body = flipkart.fixture("shipment_created")

    first = flipkart.post(client, body)
    # Flipkart's retry is signed afresh (a new X_Date) but describes the same event.
    again = flipkart.post(client, body, date=http_date(-30))

    assert first.status_code == 200
    assert first.json()["status"] == "received"
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    event = InboundEvent.objects.get()
    assert (event.platform, event.topic, event.account) == ("flipkart", "shipment_created", account)
    assert "X-Authorization" not in event.headers


@pytest.mark.parametrize("path", ["/api/webhooks/flipkart", "/api/v1/webhooks/flipkart"])
def test_every_mount_receives_with_its_own_url_signed(client, account, path):
    body = flipkart.fixture("shipment_shipped")
    response = flipkart.post(
        client, body, headers=flipkart.signed_headers(url=f"http://testserver{path}"), path=path
    )
    assert response.status_code == 200


def test_a_tampered_or_misdirected_request_is_401_and_stores_nothing(client, account):
    body = flipkart.fixture("shipment_created")
    date = http_date()
    wrong_secret = flipkart.post(client, body, secret="not-the-secret")
    unknown_app = flipkart.post(client, body, app_id="someone-else")
    other_url = flipkart.post(
        client, body, headers=flipkart.signed_headers(url="http://testserver/webhooks/shopify")
    )
    date_swapped = {**flipkart.signed_headers(date=date), "X_Date": http_date(-60)}
    not_fklogin = {"X_Date": date, "X_Authorization": "Bearer abc"}

    responses = [
        wrong_secret,
        unknown_app,
        other_url,
        flipkart.post(client, body, headers=date_swapped),
        flipkart.post(client, body, headers=not_fklogin),
    ]

    assert [r.status_code for r in responses] == [401] * 5
    assert InboundEvent.objects.count() == 0


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_date_more_than_five_minutes_off_is_401(client, account, offset):
    body = flipkart.fixture("shipment_created")
    response = flipkart.post(client, body, date=http_date(offset))
    assert response.status_code == 401
    assert "X_Date" in response.json()["detail"]
    assert InboundEvent.objects.count() == 0


def test_an_inactive_account_is_refused(client, account):
    account.is_active = False
    account.save()
    assert (
        flipkart.post(
            client, flipkart.fixture("shipment_created"), headers=flipkart.signed_headers()
        ).status_code
        == 401
    )


def test_the_older_body_hmac_finds_its_account_among_several(client, user, account):
    other = ChannelAccount.objects.create(
        owner=user,
        platform="flipkart",
        name="Second seller",
        external_id="fk-app-2",
        secret="second-secret",
    )
    body = flipkart.fixture("shipment_created")

    response = flipkart.post(
        client, body, headers={"X-Flipkart-Signature": body_hmac("second-secret", body)}
    )
    tampered = flipkart.post(
        client,
        body.replace(b'"quantity": 2', b'"quantity": 9'),
        headers={"X-Flipkart-Signature": body_hmac("second-secret", body)},
    )

    assert response.status_code == 200
    assert tampered.status_code == 401
    assert InboundEvent.objects.get().account == other


def test_unsigned_requests_are_401(client, account):
    assert (
        flipkart.post(client, flipkart.fixture("shipment_created"), headers={}).status_code == 401
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"shipmentId": SHIPMENT_ID, "timestamp": "2024-04-06T18:17:01+05:30"}, "eventType"),
        ({"eventType": "shipment_shipped", "timestamp": "2024-04-06T18:17:01+05:30"}, "shipmentId"),
        ({"eventType": "return_created", "timestamp": "2024-04-06T18:17:01+05:30"}, "returnId"),
    ],
)
def test_a_notification_without_its_type_or_id_is_422(client, account, payload, field):
    response = flipkart.post(
        client, json.dumps(payload).encode(), headers=flipkart.signed_headers()
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert InboundEvent.objects.count() == 0


def test_unknown_event_types_are_stored_and_ignored_even_without_an_id(client, account):
    # Flipkart holds back a shipment's later notifications until one is accepted.
    dispatch_dates = flipkart.fixture("shipment_dispatch_dates_changed")
    future_type = json.dumps({"eventType": "listing_updated", "listingId": "LST1"}).encode()

    assert flipkart.post(client, dispatch_dates).status_code == 200
    assert flipkart.post(client, future_type).status_code == 200
    process_received()

    assert set(InboundEvent.objects.values_list("status", flat=True)) == {"ignored"}
    assert Shipment.objects.count() == 0
    assert Event.objects.count() == 0


# Projections and internal events


def test_a_created_shipment_projects_order_line_items_and_shipment_and_is_delivered_out(
    client, user, account
):
    subscription = subscription_create(
        owner=user, url="https://example.com/hooks", event_types=["shipment.*"]
    )

    flipkart.deliver(client, "shipment_created")

    order = Order.objects.get()
    assert (order.external_id, order.account, order.currency) == (
        "OD108833803073636000",
        account,
        "INR",
    )
    line = LineItem.objects.get()
    assert (line.external_id, line.sku, line.quantity, str(line.price)) == (
        "1883380307363600",
        "LKA041150",
        2,
        "598.00",
    )
    shipment = Shipment.objects.get()
    assert (shipment.external_id, shipment.status, shipment.order) == (
        SHIPMENT_ID,
        "CREATED",
        order,
    )
    event = Event.objects.get()
    assert event.event_type == "shipment.created"
    assert event.source == "flipkart"
    assert event.data["order_id"] == "OD108833803073636000"
    assert event.data["items"][0]["sku"] == "LKA041150"
    assert event.idempotency_key == f"inbound:{InboundEvent.objects.get().pk}"
    assert Delivery.objects.get().subscription == subscription


def test_the_shipment_lifecycle_updates_status_and_appends_tracking(client, account):
    for name in [
        "shipment_created",
        "shipment_ready_to_dispatch",
        "shipment_shipped",
        "shipment_delivered",
    ]:
        flipkart.deliver(client, name)

    shipment = Shipment.objects.get()
    assert shipment.status == "DELIVERED"
    assert [entry["status"] for entry in shipment.tracking_history] == [
        "CREATED",
        "READY_TO_DISPATCH",
        "SHIPPED",
        "DELIVERED",
    ]
    assert published_types() == [
        "shipment.created",
        "shipment.updated",
        "shipment.updated",
        "shipment.delivered",
    ]


def test_an_older_notification_never_overwrites_newer_shipment_data(client, account):
    flipkart.deliver(client, "shipment_created")
    flipkart.deliver(client, "shipment_delivered")
    flipkart.deliver(client, "shipment_shipped")  # sent before delivery, arrives after it

    shipment = Shipment.objects.get()
    assert shipment.status == "DELIVERED"
    assert shipment.remote_updated_at.isoformat() == "2024-04-10T17:46:06+00:00"
    # The late update is still history, in the order things happened.
    assert [entry["status"] for entry in shipment.tracking_history] == [
        "CREATED",
        "SHIPPED",
        "DELIVERED",
    ]
    assert published_types() == ["shipment.created", "shipment.delivered"]
    assert InboundEvent.objects.filter(status=InboundEvent.Status.PROCESSED).count() == 3


def test_processing_the_same_notification_twice_adds_its_tracking_once(client, account):
    flipkart.deliver(client, "shipment_created")
    inbound_event_process(event=InboundEvent.objects.get())

    assert len(Shipment.objects.get().tracking_history) == 1
    assert Event.objects.count() == 1


def test_a_cancellation_finds_its_order_through_the_order_item(client, account):
    flipkart.deliver(client, "shipment_created")
    flipkart.deliver(client, "shipment_cancelled")

    shipment = Shipment.objects.get()
    assert shipment.status == "CANCELLED"
    assert shipment.order == Order.objects.get()
    assert LineItem.objects.get().quantity == 2  # the cancelled quantity is not an order change
    cancelled = Event.objects.get(event_type="shipment.cancelled")
    assert cancelled.data["items"] == [
        {"order_item_id": "1883380307363600", "quantity": 2, "reason": "seller_cancellation"}
    ]


def test_a_return_is_a_reverse_shipment_linked_to_its_order(client, account):
    flipkart.deliver(client, "shipment_created")
    flipkart.deliver(client, "return_created")

    reverse = Shipment.objects.get(external_id="return-12163284937418190")
    assert (reverse.status, reverse.awb, reverse.courier) == (
        "RETURN_CREATED",
        "FMPR0123456789",
        "Ekart Logistics",
    )
    assert reverse.order == Order.objects.get()
    event = Event.objects.get(event_type="return.created")
    assert event.data["forward_shipment_id"] == SHIPMENT_ID
    assert event.data["return_id"] == "12163284937418190"


def test_other_return_notifications_are_return_updates(client, account):
    body = flipkart.fixture("return_created").replace(b'"return_created"', b'"return_completed"')
    body = body.replace(b"RETURN_CREATED", b"RETURN_COMPLETED")
    assert flipkart.post(client, body).status_code == 200
    process_received()

    assert Shipment.objects.get().status == "RETURN_COMPLETED"
    assert published_types() == ["return.updated"]


def test_the_older_order_names_project_orders_and_publish_order_events(client, account):
    flipkart.deliver(client, "order_created")
    flipkart.deliver(client, "payment_updated")

    order = Order.objects.get()
    assert order.financial_status == "paid"
    assert LineItem.objects.get().sku == "LKA041150"
    assert published_types() == ["order.created", "order.updated"]
    assert Event.objects.last().data["line_items"][0]["order_item_id"] == "1883380307363600"


def test_an_older_order_notification_keeps_the_newer_order_fields(client, account):
    flipkart.deliver(client, "payment_updated")
    stale = flipkart.fixture("payment_updated").replace(b'"paid"', b'"pending"')
    stale = stale.replace(b"2024-04-11T10:00:00", b"2024-04-01T10:00:00")
    assert flipkart.post(client, stale).status_code == 200
    process_received()

    assert Order.objects.get().financial_status == "paid"
    assert published_types() == ["order.updated"]


# The real server


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_underscore_headers_reach_the_app_through_the_real_gunicorn(live_app, account):
    url = f"{live_app}/webhooks/flipkart"
    body = flipkart.fixture("shipment_created")
    headers = {
        **flipkart.signed_headers(url=url),
        "Content-Type": "application/json",
        "X_Unlisted": "1",
    }

    response = requests.post(url, data=body, headers=headers, timeout=10)

    assert response.status_code == 200, response.text
    stored = InboundEvent.objects.get().headers
    assert "X-Date" in stored
    # Only the two names Flipkart needs are admitted; any other underscore name is dropped.
    assert "X-Unlisted" not in stored


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_without_our_setting_gunicorn_drops_flipkarts_headers(account, tmp_path):
    handle, base_url = start_web_server(
        child_env(
            DATABASE_URL=database_url_for_children(), WEB_FORWARDER_HEADERS="SCRIPT_NAME,PATH_INFO"
        ),
        tmp_path / "web.log",
    )
    try:
        url = f"{base_url}/webhooks/flipkart"
        headers = {**flipkart.signed_headers(url=url), "Content-Type": "application/json"}
        response = requests.post(
            url, data=flipkart.fixture("shipment_created"), headers=headers, timeout=10
        )
    finally:
        handle.stop()

    assert response.status_code == 401
    assert InboundEvent.objects.count() == 0


def test_shipments_are_listed_read_only_in_the_admin(admin_client, client, account):
    flipkart.deliver(client, "shipment_created")
    shipment = Shipment.objects.get()

    listing = admin_client.get("/admin/channels_app/shipment/?q=" + SHIPMENT_ID)
    page = admin_client.get(f"/admin/channels_app/shipment/{shipment.pk}/change/")

    assert listing.status_code == 200
    assert SHIPMENT_ID.encode() in listing.content
    assert page.status_code == 200
    assert b'name="_save"' not in page.content


@pytest.mark.parametrize(
    ("fixture", "event_type"),
    [
        ("order_created", "order.created"),
        ("shipment_created", "shipment.created"),
        ("shipment_ready_to_dispatch", "shipment.updated"),
        ("shipment_shipped", "shipment.updated"),
        ("shipment_delivered", "shipment.delivered"),
        ("shipment_cancelled", "shipment.cancelled"),
        ("return_created", "return.created"),
        ("shipment_dispatch_dates_changed", None),
        ("payment_updated", "order.updated"),
    ],
)
def test_every_fixture_projects_and_publishes(client, account, fixture, event_type):
    flipkart.check_webhook(client, fixture, event_type=event_type)
