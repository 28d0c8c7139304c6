"""Ambiguous headers: a Shopify event whose topic cannot be told is stored and failed visibly.

Shopify retries any non-2xx 8 times over 4 hours and then deletes a subscription made through
the Admin API, and a retry carries the same headers: so an unroutable event is answered 200,
stored, and failed with the reason, never ignored and never refused.
"""

import pytest

from channels_app.commerce.models import Order
from channels_app.models import InboundEvent
from channels_app.tests import test_hostile_input
from channels_app.tests.test_hostile_input import processed_alone, shopify_order, shopify_post

pytestmark = pytest.mark.django_db

accounts = test_hostile_input.accounts  # its fixture: an account per receiver, one secret


def test_ambiguous_headers_a_header_topic_the_url_contradicts_fails_the_event_with_both(
    client, accounts
):
    response = shopify_post(client, shopify_order(), "/webhooks/shopify/orders/updated",
                            HTTP_X_SHOPIFY_TOPIC="products/update")  # fmt: skip

    assert response.status_code == 200
    event = processed_alone()
    assert (event.status, event.attempts) == (InboundEvent.Status.DEAD, 1)
    assert event.topic == "orders/updated"  # the route it arrived at
    assert event.error == (
        "X-Shopify-Topic is 'products/update' but the URL names 'orders/updated': the payload "
        "is one, the subscription was made for the other; which one is meant?"
    )
    assert not Order.objects.exists()


def test_ambiguous_headers_a_header_topic_the_url_agrees_with_routes(client, accounts):
    response = shopify_post(client, shopify_order(), "/webhooks/shopify/orders/create",
                            HTTP_X_SHOPIFY_TOPIC="orders/create")  # fmt: skip

    assert response.status_code == 200
    assert processed_alone().status == InboundEvent.Status.PROCESSED
    assert Order.objects.get().name == "#1001"


def test_ambiguous_headers_a_repeated_header_is_named_even_when_the_url_names_a_topic(
    client, accounts
):
    shopify_post(client, shopify_order(), "/webhooks/shopify/orders/create",
                 HTTP_X_SHOPIFY_TOPIC="orders/create,orders/create")  # fmt: skip

    event = processed_alone()
    assert event.status == InboundEvent.Status.DEAD
    assert "sent more than once ('orders/create,orders/create')" in event.error


def test_ambiguous_headers_a_topic_header_longer_than_any_topic_fails_rather_than_cut(
    client, accounts
):
    shopify_post(client, shopify_order(), HTTP_X_SHOPIFY_TOPIC="orders/create" + "x" * 100)

    event = processed_alone()
    assert event.status == InboundEvent.Status.DEAD
    assert event.error == "X-Shopify-Topic is 113 characters long: no Shopify topic is."
