"""An endpoint's own headers and channels, from the REST API to the receiver."""

import pytest

from channels_app.models import ChannelAccount, InboundEvent
from channels_app.services import inbound_event_publish
from subscriptions.api.serializers import MASKED_HEADER_VALUE
from subscriptions.delivery.pump import deliveries_pump
from subscriptions.delivery.wire import REDACTED
from subscriptions.models import Delivery, DeliveryAttempt, Subscription
from subscriptions.services import subscription_create
from webhooks.services import event_publish

pytestmark = pytest.mark.django_db

CREDENTIALS = {"Authorization": "Bearer receiver-token-1", "X-Tenant": "acme"}


def create(api, url, **fields):
    body = {"url": url, "event_types": ["task.*"], **fields}
    return api.post("/api/webhooks", body, format="json")


def test_custom_headers_reach_the_receiver_and_are_redacted_in_the_attempt(api, user, receiver):
    assert create(api, receiver.url, headers=CREDENTIALS).status_code == 201

    event_publish(owner=user, event_type="task.completed", data={"task_id": "t1"})
    deliveries_pump(idle_seconds=0)

    [request] = receiver.requests
    assert request.headers["Authorization"] == "Bearer receiver-token-1"
    assert request.headers["X-Tenant"] == "acme"
    assert request.headers["webhook-signature"].startswith("v1,")  # ours still sign it
    stored = DeliveryAttempt.objects.get().request_headers
    assert stored["Authorization"] == stored["X-Tenant"] == REDACTED
    assert "receiver-token-1" not in str(
        api.get(f"/api/deliveries/{Delivery.objects.get().pk}").json()
    )


def test_headers_are_shown_once_then_masked_and_a_masked_value_sent_back_keeps_it(api):
    created = create(api, "https://example.com/hook", headers=CREDENTIALS).json()
    assert created["headers"] == CREDENTIALS
    pk = created["id"]

    shown = api.get(f"/api/webhooks/{pk}").json()["headers"]
    assert shown == dict.fromkeys(CREDENTIALS, MASKED_HEADER_VALUE)
    listed = api.get("/api/webhooks").json()["results"][0]["headers"]
    assert listed == shown

    changed = {**shown, "X-Tenant": "globex"}  # a client editing what it read
    assert api.patch(f"/api/webhooks/{pk}", {"headers": changed}, format="json").status_code == 200
    assert Subscription.objects.get().headers == {**CREDENTIALS, "X-Tenant": "globex"}


def test_headers_are_encrypted_at_rest():
    from django.db import connection

    subscription_create(
        owner=_user("carol"), url="https://example.com/h", event_types=["*"], headers=CREDENTIALS
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT headers FROM subscriptions_subscription")
        [(raw,)] = cursor.fetchall()
    assert "receiver-token-1" not in raw
    assert "Authorization" not in raw


@pytest.mark.parametrize(
    "headers",
    [
        {"webhook-signature": "v1,forged"},
        {"Webhook-Id": "msg_1"},
        {"X-Webhook-Signature": "x"},
        {"Content-Type": "text/plain"},
        {"host": "internal.example"},
        {"Transfer-Encoding": "chunked"},
        {"Connection": "close"},
        {"Bad Name": "x"},
        {"X-Split": "a\r\nInjected: yes"},
        {"X-Nul": "a\x00b"},
        {"X-Long": "x" * 4097},
        {"X-A": "1", "x-a": "2"},
        {f"X-H{n}": "v" for n in range(21)},
    ],
)
def test_headers_that_would_override_ours_or_break_the_request_answer_422(api, headers):
    response = create(api, "https://example.com/hook", headers=headers)

    assert response.status_code == 422
    assert "headers" in response.json()["errors"]
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    ("subscribed", "published", "delivered"),
    [
        ([], [], True),
        ([], ["shopify:a.myshopify.com"], True),
        (["shopify:a.myshopify.com"], ["shopify:a.myshopify.com"], True),
        (["shopify:a.myshopify.com", "flipkart:s1"], ["flipkart:s1"], True),
        (["shopify:a.myshopify.com"], ["shopify:b.myshopify.com"], False),
        (["shopify:a.myshopify.com"], [], False),
    ],
)
def test_a_subscription_with_channels_gets_only_events_on_one_of_them(
    api, user, subscribed, published, delivered
):
    assert create(api, "https://example.com/hook", channels=subscribed).status_code == 201

    answer = api.post(
        "/api/events",
        {"event_type": "task.completed", "data": {}, "channels": published},
        format="json",
    )

    assert answer.status_code == 202
    assert answer.json()["deliveries"] == (1 if delivered else 0)
    assert Delivery.objects.exists() is delivered


def test_an_inbound_event_is_published_on_its_accounts_channel(user):
    shop = ChannelAccount.objects.create(
        owner=user, platform="shopify", name="Acme", external_id="acme.myshopify.com"
    )
    subscription_create(
        owner=user,
        url="https://example.com/acme",
        event_types=["*"],
        channels=["shopify:acme.myshopify.com"],
    )
    subscription_create(
        owner=user, url="https://example.com/other", event_types=["*"], channels=["shopify:other"]
    )
    inbound = InboundEvent.objects.create(
        account=shop,
        platform="shopify",
        topic="orders/create",
        external_id="w1",
        body=b"{}",
        headers={},
    )

    inbound_event_publish(event=inbound, event_type="order.created", data={"order_id": "1"})

    [delivery] = Delivery.objects.select_related("event", "subscription")
    assert delivery.event.channels == ["shopify:acme.myshopify.com"]
    assert delivery.subscription.url == "https://example.com/acme"


def _user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username=username)
