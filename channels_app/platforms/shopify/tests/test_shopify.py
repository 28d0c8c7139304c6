"""Shopify receivers with real HMAC-signed requests built from fixtures."""

import json

import pytest
import requests

from channels_app.commerce.models import LineItem, Order
from channels_app.models import ChannelAccount, InboundEvent
from channels_app.platforms.shopify.tests.case import SECRET, SHOP, shopify
from channels_app.testing import process_received
from webhooks.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(user):
    return shopify.account_create(user)


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_a_signed_order_through_the_real_server_is_stored_once(live_app, account):
    body = shopify.fixture("orders_create")
    headers = {
        **shopify.signed_headers(body, "orders/create", "wh-1"),
        "Content-Type": "application/json",
    }

    first = requests.post(f"{live_app}/webhooks/shopify", data=body, headers=headers, timeout=10)
    again = requests.post(f"{live_app}/webhooks/shopify", data=body, headers=headers, timeout=10)

    assert first.status_code == 200
    assert first.json()["status"] == "received"
    assert again.json()["status"] == "duplicate"
    event = InboundEvent.objects.get()
    assert (event.topic, event.external_id) == ("orders/create", "wh-1")
    assert "X-Shopify-Hmac-Sha256" not in event.headers


@pytest.mark.parametrize(
    "path", ["/webhooks/shopify", "/api/webhooks/shopify", "/api/v1/webhooks/shopify/orders/create"]
)
def test_every_mount_receives(client, account, path):
    body = shopify.fixture("orders_create")
    assert (
        shopify.post(
            client, body, path=path, headers=shopify.signed_headers(body, "orders/create", path)
        ).status_code
        == 200
    )


def test_a_bad_signature_is_401_and_stores_nothing(client, account):
    body = shopify.fixture("orders_create")
    tampered = body.replace(b"199.00", b"1.00")
    response = shopify.post(
        client,
        tampered,
        path="/webhooks/shopify",
        headers=shopify.signed_headers(body, "orders/create", "x"),
    )
    other_secret = shopify.post(client, body, topic="orders/create", webhook_id="y", secret="wrong")
    assert response.status_code == 401
    assert other_secret.status_code == 401
    assert InboundEvent.objects.count() == 0


def test_an_unknown_source_is_404(client):
    response = client.post("/webhooks/nosuchplatform", b"{}", content_type="application/json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_orders_project_with_line_items_and_publish(client, account):
    body = shopify.fixture("orders_create")
    shopify.post(client, body, topic="orders/create", webhook_id="wh-1")
    process_received()

    order = Order.objects.get()
    assert (order.name, order.financial_status, str(order.total_price)) == (
        "#1001",
        "paid",
        "199.00",
    )
    assert LineItem.objects.get().sku == "IPOD-342-N"
    assert Event.objects.get().event_type == "order.created"


def test_an_older_update_never_overwrites_newer_data(client, account):
    newer, older = shopify.fixture("orders_updated"), shopify.fixture("orders_create")
    shopify.post(client, newer, topic="orders/updated", webhook_id="wh-2")
    process_received()
    shopify.post(
        client,
        older,
        path="/webhooks/shopify/orders/updated",
        headers=shopify.signed_headers(older, "orders/updated", "wh-3"),
    )
    process_received()

    order = Order.objects.get()
    assert order.financial_status == "refunded"
    assert LineItem.objects.get().quantity == 2
    assert InboundEvent.objects.filter(status=InboundEvent.Status.PROCESSED).count() == 2


def test_unsupported_topics_are_stored_and_ignored(client, account):
    body = json.dumps({"id": 1}).encode()
    shopify.post(client, body, topic="carts/create", webhook_id="wh-9")
    process_received()
    assert InboundEvent.objects.get().status == InboundEvent.Status.IGNORED


def test_the_environment_secret_acts_as_a_default_account(client, settings, django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.com", "x")
    settings.SHOPIFY_WEBHOOK_SECRET = SECRET
    body = shopify.fixture("orders_create")
    assert shopify.post(client, body, topic="orders/create", webhook_id="e1").status_code == 200
    assert ChannelAccount.objects.get().external_id == SHOP


def test_refunds_and_fulfillments_attach_to_the_order(client, account):
    from channels_app.commerce.models import Fulfillment, Refund

    shopify.deliver(client, "orders_create", topic="orders/create", webhook_id="o1")
    shopify.deliver(client, "refunds_create", topic="refunds/create", webhook_id="r1")
    shopify.deliver(client, "fulfillments_create", topic="fulfillments/create", webhook_id="f1")

    assert str(Refund.objects.get().amount) == "41.94"
    fulfillment = Fulfillment.objects.get()
    assert (fulfillment.tracking_number, fulfillment.tracking_company) == ("1Z2345", "UPS")
    assert Order.objects.get().fulfillment_status == "fulfilled"
    assert set(Event.objects.values_list("event_type", flat=True)) == {
        "order.created",
        "refund.created",
        "order.fulfilled",
    }


def test_products_and_inventory_levels_project_and_link(client, account):
    from channels_app.platforms.shopify.models import InventoryLevel, Variant

    shopify.deliver(client, "products_update", topic="products/update", webhook_id="p1")
    shopify.deliver(
        client, "inventory_levels_update", topic="inventory_levels/update", webhook_id="i1"
    )

    level = InventoryLevel.objects.get()
    assert level.available == 42
    assert level.variant == Variant.objects.get(sku="IPOD2008PINK")
    assert {"product.updated", "inventory.updated"} <= set(
        Event.objects.values_list("event_type", flat=True)
    )


def test_an_unknown_inventory_item_is_recorded_not_an_error(client, account):
    from channels_app.platforms.shopify.models import InventoryLevel

    shopify.deliver(
        client, "inventory_levels_update", topic="inventory_levels/update", webhook_id="i2"
    )

    assert InventoryLevel.objects.get().variant is None
    assert InboundEvent.objects.get().status == InboundEvent.Status.PROCESSED


def test_an_uninstall_marks_the_store_and_keeps_its_data(client, account):
    from channels_app.platforms.shopify.models import Store

    shopify.deliver(client, "orders_create", topic="orders/create", webhook_id="o1")
    shopify.deliver(client, "app_uninstalled", topic="app/uninstalled", webhook_id="u1")

    assert Store.objects.get().installed is False
    assert Order.objects.count() == 1
    assert Event.objects.filter(event_type="store.uninstalled").count() == 1


def test_a_non_ascii_signature_is_a_401_not_a_500(client, account):
    body = shopify.fixture("orders_create")
    headers = {
        **shopify.signed_headers(body, "orders/create", "wh-x"),
        "X-Shopify-Hmac-Sha256": "é" * 44,
    }

    response = shopify.post(client, body, headers=headers)

    assert response.status_code == 401
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize(
    ("fixture", "topic", "event_type", "data"),
    [
        ("orders_create", "orders/create", "order.created", {"name": "#1001"}),
        # An update for an order not seen yet is its creation, as far as subscribers know.
        ("orders_updated", "orders/updated", "order.created", {"financial_status": "refunded"}),
        ("products_update", "products/update", "product.updated", {"status": "active"}),
        (
            "inventory_levels_update",
            "inventory_levels/update",
            "inventory.updated",
            {"available": 42},
        ),
        ("app_uninstalled", "app/uninstalled", "store.uninstalled", {"shop": SHOP}),
        ("refunds_create", "refunds/create", "refund.created", None),
        ("fulfillments_create", "fulfillments/create", "order.fulfilled", None),
    ],
)
def test_every_fixture_projects_and_publishes(client, account, fixture, topic, event_type, data):
    shopify.check_webhook(client, fixture, topic=topic, event_type=event_type, data=data)
