"""Lineage: from a signed inbound webhook to the events it caused and each of their deliveries
(config.lineage), and back from an event to the webhook that caused it (webhooks.lineage)."""

import pytest

from channels_app.models import InboundEvent
from channels_app.platforms.shopify.tests.case import shopify
from channels_app.processing import inbound_event_process
from subscriptions.delivery.pump import deliveries_pump
from subscriptions.services import subscription_create
from webhooks.models import Event
from webhooks.services import event_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def order_delivered(client, user, receiver, settings):
    """A signed Shopify order, processed, and its event delivered to a real local receiver."""
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    shopify.account_create(user)
    subscription_create(owner=user, url=receiver.url, event_types=["order.*"])
    assert shopify.post(client, shopify.fixture("orders_create")).status_code == 200
    inbound = InboundEvent.objects.get()
    inbound_event_process(event=inbound)
    deliveries_pump(idle_seconds=0)
    assert len(receiver.requests) == 1
    return inbound


def test_an_inbound_event_shows_what_it_caused_down_to_each_delivery(api, order_delivered):
    answer = api.get(f"/api/inbound-events/{order_delivered.pk}")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["id"], body["platform"], body["status"]) == (
        order_delivered.pk, "shopify", "processed",
    )  # fmt: skip
    [event] = body["events"]
    assert event["event_type"] == "order.created"
    [delivery] = event["deliveries"]
    assert (delivery["status"], delivery["attempt_count"]) == ("succeeded", 1)


def test_an_event_names_the_inbound_webhook_that_caused_it(api, user, order_delivered):
    caused = Event.objects.get(event_type="order.created")
    published_here = event_publish(owner=user, event_type="order.created", data={}).event

    cause = api.get(f"/api/events/{caused.public_id}").json()["caused_by"]
    assert cause == {
        "type": "inbound_event", "id": order_delivered.pk, "platform": "shopify",
        "topic": "orders/create", "received_at": order_delivered.received_at.isoformat(),
        "url": f"/api/inbound-events/{order_delivered.pk}",
    }  # fmt: skip
    assert api.get(cause["url"]).status_code == 200
    assert api.get(f"/api/events/{published_here.public_id}").json()["caused_by"] is None


def test_another_users_inbound_event_is_404(other_api, order_delivered):
    answer = other_api.get(f"/api/inbound-events/{order_delivered.pk}")

    assert answer.status_code == 404


def test_the_admin_links_an_inbound_event_and_its_events_both_ways(admin_client, order_delivered):
    caused = Event.objects.get()
    inbound_page = f"/admin/channels_app/inboundevent/{order_delivered.pk}/change/"
    event_page = f"/admin/webhooks/event/{caused.pk}/change/"

    inbound = admin_client.get(inbound_page)
    event = admin_client.get(event_page)

    assert inbound.status_code == event.status_code == 200
    assert event_page in inbound.content.decode()
    assert inbound_page in event.content.decode()
