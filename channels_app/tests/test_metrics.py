"""Inbound metrics on /metrics after real signed Shopify webhooks, received and processed."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app.models import InboundEvent
from channels_app.platforms.shopify.tests.case import shopify
from channels_app.processing import inbound_events_drain
from config.tests.scrape import scrape

pytestmark = pytest.mark.django_db

ORDER = shopify.fixture("orders_create")


@pytest.fixture
def account(user):
    return shopify.account_create(user)


def send(client, body: bytes, topic: str, webhook_id: str, **overrides):
    headers = {**shopify.signed_headers(body, topic, webhook_id), **overrides}
    return shopify.post(client, body, headers=headers).status_code


def test_each_answer_is_counted_by_platform_and_status_code(client, account):
    body = shopify.fixture("orders_create")
    before = scrape(client)

    answers = [
        send(client, body, "orders/create", "wh-1"),
        send(client, body, "orders/create", "wh-1"),  # a duplicate is 200 too
        send(client, body, "orders/create", "wh-2", **{"X-Shopify-Hmac-Sha256": "forged"}),
        send(client, b"[1, 2", "orders/create", "wh-3"),
    ]

    after = scrape(client)
    assert answers == [200, 200, 401, 400]
    for status, count in {"200": 2, "401": 1, "400": 1}.items():
        received = after.value("inbound_received_total", platform="shopify", status=status)
        was = before.value("inbound_received_total", platform="shopify", status=status)
        assert received - was == count, status
    assert (
        after.value("inbound_rejected_total", platform="shopify", reason="unauthorized")
        - before.value("inbound_rejected_total", platform="shopify", reason="unauthorized")
        == 1
    )
    assert after.value("inbound_backlog", platform="shopify", status="received") == 1
    assert after.value("inbound_backlog", platform="stripe", status="received") == 0


def test_processing_is_counted_by_outcome_with_its_latency_and_wait_since_receipt(client, account):
    assert send(client, shopify.fixture("orders_create"), "orders/create", "wh-1") == 200
    assert send(client, json.dumps({"id": 1}).encode(), "carts/create", "wh-2") == 200
    # A topic Shopify repeated reaches us joined: it cannot be routed, so it is dead at once.
    assert send(client, ORDER, "orders/create,orders/create", "wh-3") == 200
    InboundEvent.objects.update(received_at=timezone.now() - timedelta(seconds=30))
    before = scrape(client)

    assert inbound_events_drain(account_id=account.pk) == 3

    after = scrape(client)

    def delta(name, **labels):
        return after.value(name, platform="shopify", **labels) - before.value(
            name, platform="shopify", **labels
        )

    for outcome in ("processed", "ignored", "dead"):
        assert delta("inbound_processed_total", outcome=outcome) == 1, outcome
        assert delta("inbound_processing_duration_seconds_count", outcome=outcome) == 1, outcome
    assert 0 < delta("inbound_processing_duration_seconds_sum", outcome="processed") < 5
    assert delta("inbound_queue_wait_seconds_count") == 3
    assert 3 * 30 <= delta("inbound_queue_wait_seconds_sum") < 3 * 31
    assert after.value("inbound_backlog", platform="shopify", status="received") == 0
    assert after.value("inbound_backlog", platform="shopify", status="failed") == 0
    assert after.value("inbound_backlog", platform="shopify", status="dead") == 1


def test_a_reprocessed_event_gives_no_second_queue_wait(client, account):
    assert send(client, ORDER, "orders/create,orders/create", "wh-1") == 200
    inbound_events_drain(account_id=account.pk)
    InboundEvent.objects.update(status=InboundEvent.Status.RECEIVED)  # as reprocessing does
    before = scrape(client)

    inbound_events_drain(account_id=account.pk)

    after = scrape(client)
    dead = {"platform": "shopify", "outcome": "dead"}
    assert (
        after.value("inbound_processed_total", **dead)
        - before.value("inbound_processed_total", **dead)
        == 1
    )
    assert after.value("inbound_queue_wait_seconds_count", platform="shopify") == before.value(
        "inbound_queue_wait_seconds_count", platform="shopify"
    )
