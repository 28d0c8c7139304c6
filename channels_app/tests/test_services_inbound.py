"""Waking and draining inbound processing: one broker message per burst, each row once."""

import threading
import time

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.test import Client

from channels_app import receiving
from channels_app.models import ChannelAccount, InboundEvent
from channels_app.platforms.shopify.platform import shopify_hmac
from channels_app.platforms.stripe import handlers
from channels_app.platforms.stripe.platform import stripe_signature
from channels_app.processing import inbound_event_process, inbound_events_drain
from channels_app.services import inbound_event_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker():
    """The test broker (Redis in CI), emptied, to count the messages a test sends."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("counts messages in a Redis broker")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def account(user):
    return ChannelAccount.objects.create(
        owner=user, platform="stripe", name="Stripe", external_id="acct_1", secret="whsec_x"
    )


def store(account, n: int) -> InboundEvent:
    body = b'{"id": "evt_%d", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}'
    event, _ = inbound_event_store(
        platform="stripe", account=account, topic="customer.created",
        external_id=f"evt_{n}", body=body % n, headers={}, remote_addr="127.0.0.1",
    )  # fmt: skip
    return event


def test_a_burst_of_webhooks_queues_one_drain(account, broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(20):
            store(account, n)

    assert broker.llen("inbound") == 1


def test_a_drain_processes_every_received_event_of_its_account(account, other_user):
    other = ChannelAccount.objects.create(
        owner=other_user, platform="stripe", name="Other", external_id="acct_2", secret="x"
    )
    for n in range(3):
        store(account, n)
    elsewhere = store(other, 99)

    assert inbound_events_drain(account_id=account.pk) == 3

    statuses = set(InboundEvent.objects.filter(account=account).values_list("status", flat=True))
    assert statuses == {InboundEvent.Status.IGNORED}  # customer.created is not projected
    elsewhere.refresh_from_db()
    assert elsewhere.status == InboundEvent.Status.RECEIVED


def test_a_failing_event_records_its_retry_and_the_others_go_on(
    account, broker, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(event, payload):
        raise RuntimeError("handler bug")

    monkeypatch.setitem(handlers.TYPES, "customer.created", broken)
    first, second = store(account, 1), store(account, 2)
    InboundEvent.objects.filter(pk=second.pk).update(topic="customer.deleted")
    broker.flushdb()  # what storing queued

    with django_capture_on_commit_callbacks(execute=True):
        inbound_events_drain(account_id=account.pk)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.attempts, first.error) == (
        InboundEvent.Status.FAILED, 1, "RuntimeError: handler bug",
    )  # fmt: skip
    assert first.next_attempt_at is not None  # the row owns its retry
    assert second.status == InboundEvent.Status.IGNORED
    assert broker.llen("inbound") == 1  # a hint for the retry's time


@pytest.mark.django_db(transaction=True)
def test_an_event_another_worker_holds_is_skipped_not_processed_twice(account):
    event = store(account, 1)
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        with transaction.atomic():
            InboundEvent.objects.select_for_update().get(pk=event.pk)
            locked.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    locked.wait(10)
    try:
        ran = inbound_event_process(event=event)
    finally:
        release.set()
        holder.join()

    assert ran is False
    event.refresh_from_db()
    assert (event.status, event.attempts) == (InboundEvent.Status.RECEIVED, 0)


def test_a_processed_event_is_not_processed_again(account):
    event = store(account, 1)

    assert inbound_event_process(event=event) is True
    assert inbound_event_process(event=event) is False

    event.refresh_from_db()
    assert event.attempts == 1


def test_an_account_is_remembered_for_a_few_seconds(account, settings, monkeypatch):
    import time

    from channels_app import selectors

    settings.INBOUND_ACCOUNT_CACHE_SECONDS = 5
    assert selectors.active_account(platform="stripe", external_id="acct_1") == account
    ChannelAccount.objects.filter(pk=account.pk).update(is_active=False)

    remembered = selectors.active_account(platform="stripe", external_id="acct_1")
    later = time.monotonic() + 6
    monkeypatch.setattr(selectors.time, "monotonic", lambda: later)
    expired = selectors.active_account(platform="stripe", external_id="acct_1")

    assert remembered == account
    assert expired is None


def test_a_drain_past_its_time_budget_wakes_itself_and_stops(account, broker, settings):
    settings.INBOUND_DRAIN_SECONDS = 0  # over budget after the first event
    for n in range(3):
        store(account, n)

    assert inbound_events_drain(account_id=account.pk) == 1

    assert InboundEvent.objects.filter(status=InboundEvent.Status.RECEIVED).count() == 2
    assert broker.llen("inbound") == 1  # the drain that goes on, behind other accounts


def stripe_post(client, event_id: str):
    body = b'{"id": "%s", "type": "customer.created", "data": {"object": {}}}' % event_id.encode()
    at = int(time.time())
    return client.post(
        "/webhooks/stripe", body, content_type="application/json",
        HTTP_STRIPE_SIGNATURE=f"t={at},v1={stripe_signature('whsec_x', at, body)}",
    )  # fmt: skip


def test_a_redis_outage_does_not_refuse_webhooks(client, account, monkeypatch):
    """The rate limiter fails open: with Redis on a closed port the event is still stored."""
    monkeypatch.setattr(
        receiving, "redis_client", lambda: redis.Redis.from_url("redis://127.0.0.1:9/0")
    )

    assert stripe_post(client, "evt_r").status_code == 200
    assert InboundEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_account_deleted_while_a_receiver_remembers_it_answers_503_not_500(user):
    shop = ChannelAccount.objects.create(
        owner=user, platform="shopify", name="Shop", external_id="s.myshopify.com", secret="k"
    )
    body = b'{"id": 1}'

    def post(webhook_id: str):
        return Client().post(
            "/webhooks/shopify", body, content_type="application/json",
            HTTP_X_SHOPIFY_HMAC_SHA256=shopify_hmac("k", body),
            HTTP_X_SHOPIFY_SHOP_DOMAIN="s.myshopify.com", HTTP_X_SHOPIFY_TOPIC="orders/create",
            HTTP_X_SHOPIFY_WEBHOOK_ID=webhook_id,
        )  # fmt: skip

    assert post("w1").status_code == 200  # the receiver now remembers the account
    shop.delete()
    response = post("w2")

    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"
