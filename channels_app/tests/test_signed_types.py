"""Types trusted after the signature: a signed payload is authentic, not well formed.

Every request here is signed with the account's real secret, so it gets past authentication;
what is tested is what each receiver and handler does with a field of the wrong type, length
or range: a 422 at receipt for what the row itself needs (its topic, its dedupe id), else a
stored row that fails once, at once, with the field's path as its reason. Never a 500, never
a retry that meets the same payload again, never a row processed into junk.
"""

import json
from pathlib import Path

import pytest

from channels_app.commerce.models import LineItem, Order, Shipment
from channels_app.models import InboundEvent
from channels_app.platforms.stripe.models import Payment
from channels_app.processing import inbound_event_process
from channels_app.tests import test_hostile_input
from channels_app.tests.test_hostile_input import signed

pytestmark = pytest.mark.django_db

accounts = test_hostile_input.accounts  # its fixture: an account per receiver, one secret

PLATFORMS = Path(__file__).resolve().parents[1] / "platforms"


def fixture(platform: str, name: str) -> dict:
    return json.loads((PLATFORMS / platform / "fixtures" / f"{name}.json").read_text())


def post(client, platform: str, payload, **headers):
    body = json.dumps(payload).encode()
    path, signed_headers = signed(platform, body)
    return client.post(path, body, content_type="application/json", **{**signed_headers, **headers})


def received(client, platform: str, payload, **headers) -> InboundEvent:
    """Post signed, then process the stored row as the worker does."""
    response = post(client, platform, payload, **headers)
    assert response.status_code == 200, response.content
    event = InboundEvent.objects.latest("pk")
    inbound_event_process(event=event)
    event.refresh_from_db()
    return event


def assert_failed_once(event: InboundEvent, reason: str) -> None:
    assert (event.status, event.attempts, event.error) == (InboundEvent.Status.DEAD, 1, reason)


def problem_locs(response) -> list[list]:
    return [problem["loc"] for problem in response.json()["detail"]]


# --- Stripe -------------------------------------------------------------------------------


def stripe_event(**changes) -> dict:
    return {**fixture("stripe", "charge_refunded"), **changes}


@pytest.mark.parametrize("event_id", [12, None, {"id": "evt_1"}, ["evt_1"], True, ""])
def test_a_stripe_event_id_that_is_not_text_is_422_naming_it_not_a_500(client, accounts, event_id):
    response = post(client, "stripe", stripe_event(id=event_id))

    assert response.status_code == 422
    assert problem_locs(response) == [["body", "id"]]
    assert not InboundEvent.objects.exists()


def test_a_stripe_type_that_is_not_text_is_422_not_stored_as_its_repr(client, accounts):
    response = post(client, "stripe", stripe_event(type=["charge.refunded"]))

    assert response.status_code == 422
    assert problem_locs(response) == [["body", "type"]]
    assert not InboundEvent.objects.exists()


def test_a_stripe_type_longer_than_a_topic_is_422_not_cut_short(client, accounts):
    response = post(client, "stripe", stripe_event(type="charge.refunded" + "x" * 100))

    assert response.status_code == 422
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"id": None}, "`data.object.id` is required, not null."),
        ({"customer": {"id": "cus_1"}}, "`data.object.customer` must be text, not an object."),
        ({"amount": "2000"}, "`data.object.amount` must be an integer, not text."),
        ({"amount": 2**70}, "`data.object.amount` must be from -9223372036854775808 to "
                            "9223372036854775807, not 1180591620717411303424."),
    ],
)  # fmt: skip
def test_a_stripe_object_field_of_the_wrong_type_fails_the_event_once_with_its_path(
    client, accounts, changes, reason
):
    payload = stripe_event()
    payload["data"]["object"].update(changes)

    event = received(client, "stripe", payload)

    assert_failed_once(event, reason)
    assert not Payment.objects.exists()


def test_a_stripe_created_that_is_not_a_number_fails_at_once_instead_of_retrying(client, accounts):
    event = received(client, "stripe", stripe_event(created="soon"))

    assert_failed_once(event, "`created` must be an integer, not text.")


# --- Shopify ------------------------------------------------------------------------------


def shopify_order(**changes) -> dict:
    return {**fixture("shopify", "orders_create"), **changes}


def test_a_shopify_order_with_a_null_id_fails_and_projects_no_order_named_none(client, accounts):
    first = received(client, "shopify", shopify_order(id=None, name="#1"))
    second = received(client, "shopify", shopify_order(id=None, name="#2"))

    assert_failed_once(first, "`id` is required, not null.")
    assert_failed_once(second, "`id` is required, not null.")
    assert not Order.objects.exists()  # not one order "None" that both merged into


def test_a_shopify_line_item_without_an_id_fails_instead_of_becoming_item_none(client, accounts):
    event = received(client, "shopify", shopify_order(line_items=[{"title": "t", "quantity": 1}]))

    assert_failed_once(event, "`line_items[0].id` is required.")
    assert not LineItem.objects.exists()


def test_a_shopify_quantity_that_is_not_an_integer_fails_at_once_instead_of_retrying(
    client, accounts
):
    order = shopify_order()
    order["line_items"][0]["quantity"] = "abc"

    event = received(client, "shopify", order)

    assert_failed_once(event, "`line_items[0].quantity` must be an integer, not text.")


def test_a_shopify_price_that_is_not_money_fails_instead_of_being_read_as_none(client, accounts):
    event = received(client, "shopify", shopify_order(total_price={"amount": "199.00"}))

    assert_failed_once(event, '`total_price` must be a decimal number like "19.99", not an object.')


def test_a_shopify_update_whose_time_is_not_a_time_never_overwrites_newer_data(client, accounts):
    received(client, "shopify", shopify_order(name="#new", updated_at="2026-11-21T10:00:00Z"))

    # Read as "no time", it used to count as newer than anything and overwrite.
    event = received(client, "shopify", shopify_order(name="#old", updated_at="yesterday"))

    assert_failed_once(event, "`updated_at` must be an ISO 8601 time, not 'yesterday'.")
    assert Order.objects.get().name == "#new"


def test_shopify_inventory_available_as_text_fails_with_its_path(client, accounts):
    level = {"inventory_item_id": 808950810, "location_id": 655441491, "available": "5"}

    event = received(client, "shopify", level, HTTP_X_SHOPIFY_TOPIC="inventory_levels/update")

    assert_failed_once(event, "`available` must be an integer, not text.")


def test_shopify_refund_transactions_that_are_not_a_list_fail_with_their_path(client, accounts):
    refund = {"id": 1, "order_id": 820982911946154508, "transactions": {"amount": "1.00"}}

    event = received(client, "shopify", refund, HTTP_X_SHOPIFY_TOPIC="refunds/create")

    assert_failed_once(event, "`transactions` must be a list of objects, not an object.")
    assert not Order.objects.exists()


def test_a_value_the_database_refuses_that_no_reader_checks_still_fails_once(client, accounts):
    # Each amount fits the column; their sum does not. PostgreSQL's refusal is final too.
    most = {"amount": "999999999999.99"}
    refund = {"id": 1, "order_id": 1, "transactions": [most, most]}

    event = received(client, "shopify", refund, HTTP_X_SHOPIFY_TOPIC="refunds/create")

    assert (event.status, event.attempts) == (InboundEvent.Status.DEAD, 1)
    assert event.error.startswith("DataError: numeric field overflow")
    assert not Order.objects.exists()


# --- Qualia -------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["order_id", "message_id"])
def test_a_qualia_id_longer_than_its_column_is_422_in_the_seed_shape(client, accounts, field):
    activity = {"description": "d", "type": "message", "order_id": "o1", "message_id": "m1"}

    response = post(client, "qualia", {**activity, field: "x" * 101})

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body", field], "msg": "ensure this value has at most 100 characters",
         "type": "value_error.any_str.max_length"}
    ]  # fmt: skip
    assert not InboundEvent.objects.exists()


# --- Flipkart -----------------------------------------------------------------------------


def flipkart_shipment(**item_changes) -> dict:
    notification = fixture("flipkart", "shipment_created")
    notification["attributes"]["orderItems"][0].update(item_changes)
    return notification


def test_a_flipkart_quantity_that_is_not_an_integer_fails_at_once(client, accounts):
    event = received(client, "flipkart", flipkart_shipment(quantity="2"))

    assert_failed_once(event, "`attributes.orderItems[0].quantity` must be an integer, not text.")
    assert not Shipment.objects.exists()


def test_a_flipkart_item_id_longer_than_its_column_fails_instead_of_being_cut_short(
    client, accounts
):
    # Cut to 100 characters, two items sharing a prefix became one line item.
    event = received(client, "flipkart", flipkart_shipment(orderItemId="1" * 101))

    assert_failed_once(
        event, "`attributes.orderItems[0].orderItemId` is 101 characters long; at most 100 fit."
    )
    assert not LineItem.objects.exists()


def test_a_flipkart_item_that_is_not_an_object_fails_instead_of_being_skipped(client, accounts):
    notification = flipkart_shipment()
    notification["attributes"]["orderItems"].append("1883380307363601")

    event = received(client, "flipkart", notification)

    assert_failed_once(event, "`attributes.orderItems[1]` must be an object, not text.")


def test_a_flipkart_status_that_is_not_text_fails_instead_of_storing_its_repr(client, accounts):
    notification = flipkart_shipment()
    notification["attributes"]["status"] = {"code": "SHIPPED"}

    event = received(client, "flipkart", notification)

    assert_failed_once(event, "`attributes.status` must be text, not an object.")
    assert not Shipment.objects.exists()


# --- Selloship ----------------------------------------------------------------------------


def selloship_event(**changes) -> dict:
    return {**fixture("selloship", "shipment_updated"), **changes}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"status": {"code": "IN_TRANSIT"}}, "`status` must be text, not an object."),
        ({"scans": [{"status": "PICKED_UP"}, "x"]}, "`scans[1]` must be an object, not text."),
        ({"order_id": {"id": "#1001"}}, "`order_id` must be text or an integer, not an object."),
        ({"updated_at": 1714725000}, "`updated_at` must be an ISO 8601 time, not a number."),
    ],
)
def test_a_selloship_field_of_the_wrong_type_fails_the_event_with_its_path(
    client, accounts, changes, reason
):
    event = received(client, "selloship", selloship_event(**changes))

    assert_failed_once(event, reason)
    assert not Shipment.objects.exists()


def test_a_selloship_event_name_longer_than_a_topic_is_422(client, accounts):
    response = post(client, "selloship", selloship_event(event="SHIPMENT_" + "X" * 100))

    assert response.status_code == 422
    assert problem_locs(response) == [["body", "event"]]


# --- Configured sources -------------------------------------------------------------------


@pytest.mark.parametrize("payload_id", [True, {"n": 1}, [1], 1.5])
def test_a_source_payload_id_that_is_not_text_or_an_integer_is_422_not_a_dedupe_key(
    client, accounts, payload_id
):
    # Read as str(), every `"id": true` was one event and the next a "duplicate".
    response = post(client, "acme", {"type": "invoice.paid", "id": payload_id})

    assert response.status_code == 422
    assert problem_locs(response) == [["body", "id"]]
    assert not InboundEvent.objects.exists()


def test_a_source_payload_id_sent_as_an_integer_is_its_dedupe_key(client, accounts):
    assert post(client, "acme", {"type": "invoice.paid", "id": 7}).status_code == 200

    assert InboundEvent.objects.get().external_id == "7"
