"""Amazon SP-API notifications over SNS, once verified: what they project and publish, the
subscription confirmation, the admin, and the real server."""

import json
from datetime import UTC, datetime

import pytest
import requests

from channels_app.commerce.models import LineItem, Order
from channels_app.models import InboundEvent
from channels_app.platforms.amazon.models import ProcessingReport, SnsSubscription
from channels_app.platforms.amazon.tests.case import (
    TOPIC,
    notification,
    post,
    process_all,
    sns_message,
)
from channels_app.processing import inbound_event_process
from subscriptions.models import Delivery
from subscriptions.services import subscription_create
from webhooks.models import Event

pytestmark = pytest.mark.django_db


# --- Notifications ----------------------------------------------------------------------------


def test_a_repeated_message_id_is_a_duplicate_and_stored_once(client, account, sns, keys):
    message = sns_message(sns, keys, message=notification("order_change"))

    first, again = post(client, message), post(client, message)

    assert first.json()["status"] == "received"
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert again.json()["id"] == first.json()["id"]
    assert InboundEvent.objects.count() == 1


def test_an_unhandled_notification_type_is_stored_and_ignored(client, account, sns, keys):
    other = {
        "notificationVersion": "1.0",
        "notificationType": "ANY_OFFER_CHANGED",
        "payloadVersion": "1.0",
        "eventTime": "2025-01-01T00:00:00Z",
        "payload": {},
    }
    post(client, sns_message(sns, keys, message=other))
    post(client, sns_message(sns, keys, message="Hello from the SNS console"))
    process_all()

    assert list(InboundEvent.objects.order_by("pk").values_list("topic", "status")) == [
        ("ANY_OFFER_CHANGED", InboundEvent.Status.IGNORED),
        ("Notification", InboundEvent.Status.IGNORED),
    ]
    assert Event.objects.count() == 0


def test_an_order_change_projects_the_order_and_publishes(client, account, sns, keys, user):
    subscription_create(owner=user, url="https://example.com/h", event_types=["order.*"])
    post(client, sns_message(sns, keys, message=notification("order_change")))
    process_all()

    order = Order.objects.get()
    assert (order.external_id, order.financial_status, order.fulfillment_status) == (
        "903-8868176-2219830",
        "paid",
        "",
    )
    assert order.remote_updated_at == datetime(2025, 1, 11, 0, 9, 53, 109000, tzinfo=UTC)
    item = LineItem.objects.get()
    assert (item.external_id, item.sku, item.quantity) == ("OIID34853450", "SellerSKUID1", 10)
    event = Event.objects.get()
    assert (event.event_type, event.source) == ("order.created", "amazon")
    assert event.data["order_status"] == "Unshipped"
    assert event.data["shop"] == "A3TH9S8BH6GOGM"
    assert Delivery.objects.filter(event=event).count() == 1
    assert InboundEvent.objects.get().status == InboundEvent.Status.PROCESSED


def _order_change(status: str, event_time: str) -> dict:
    change = notification("order_change", EventTime=event_time)
    change["Payload"]["OrderChangeNotification"]["Summary"]["OrderStatus"] = status
    return change


def test_an_older_order_change_never_overwrites_a_newer_one(client, account, sns, keys):
    newer = _order_change("Shipped", "2025-01-12T10:00:00.000Z")
    older = _order_change("Unshipped", "2025-01-11T10:00:00.000Z")
    post(client, sns_message(sns, keys, message=newer))
    process_all()
    post(client, sns_message(sns, keys, message=older))
    process_all()

    order = Order.objects.get()
    assert (order.financial_status, order.fulfillment_status) == ("paid", "fulfilled")
    assert order.remote_updated_at == datetime(2025, 1, 12, 10, tzinfo=UTC)
    assert list(Event.objects.values_list("event_type", flat=True)) == ["order.created"]
    assert InboundEvent.objects.filter(status=InboundEvent.Status.PROCESSED).count() == 2


def test_a_newer_order_change_updates_and_a_cancellation_publishes_cancelled(
    client, account, sns, keys
):
    for status, at in [
        ("Pending", "2025-01-11T10:00:00Z"),
        ("Unshipped", "2025-01-11T11:00:00Z"),
        ("Canceled", "2025-01-11T12:00:00Z"),
    ]:
        post(client, sns_message(sns, keys, message=_order_change(status, at)))
        process_all()

    order = Order.objects.get()
    assert order.cancelled_at == datetime(2025, 1, 11, 12, tzinfo=UTC)
    assert list(Event.objects.order_by("pk").values_list("event_type", flat=True)) == [
        "order.created",
        "order.updated",
        "order.cancelled",
    ]


@pytest.mark.parametrize(
    ("name", "kind", "external_id", "document_id", "event_type", "data_key"),
    [
        (
            "feed_processing_finished",
            "feed",
            "53347018456",
            "amzn1.tortuga.3.edbcd0d8-3434-8222-1234-52ad8ade1208.URUTI57URI9BMZ",
            "amazon.feed.finished",
            "result_feed_document_id",
        ),
        (
            "report_processing_finished",
            "report",
            "54517018502",
            "amzn1.tortuga.3.edbcd0d8-3434-8222-1234-52ad8ade1208.REP4567URI9BMZ",
            "amazon.report.finished",
            "report_document_id",
        ),
    ],
)
def test_finished_feeds_and_reports_are_recorded_and_reach_subscribers(
    client, account, sns, keys, user, name, kind, external_id, document_id, event_type, data_key
):
    subscription = subscription_create(
        owner=user, url="https://example.com/h", event_types=["amazon.*"]
    )
    post(client, sns_message(sns, keys, message=notification(name)))
    process_all()
    process_all()  # a second pass changes nothing

    report = ProcessingReport.objects.get()
    assert (report.kind, report.external_id, report.processing_status, report.document_id) == (
        kind,
        external_id,
        "DONE",
        document_id,
    )
    event = Event.objects.get()
    assert (event.event_type, event.source) == (event_type, "amazon")
    assert event.data[data_key] == document_id
    assert Delivery.objects.get(event=event).subscription == subscription


# --- Subscription confirmation ----------------------------------------------------------------


def test_a_subscription_confirmation_is_confirmed_in_the_worker_after_verification(
    client, account, sns, keys
):
    message = sns_message(
        sns,
        keys,
        "SubscriptionConfirmation",
        message=f"You have chosen to subscribe to the topic {TOPIC}.",
    )

    response = post(client, message)

    assert response.status_code == 200
    # Stored and acknowledged first: only the certificate was fetched so far.
    assert sns.requests == ["/SimpleNotificationService-test.pem"]

    process_all()

    assert sns.requests[1:] == [message["SubscribeURL"].split(str(sns.port), 1)[1]]
    subscription = SnsSubscription.objects.get()
    assert (subscription.account, subscription.topic_arn, subscription.status) == (
        account,
        TOPIC,
        SnsSubscription.Status.CONFIRMED,
    )
    assert subscription.subscribe_url == message["SubscribeURL"]
    event = InboundEvent.objects.get()
    assert (event.topic, event.status) == (
        "SubscriptionConfirmation",
        InboundEvent.Status.PROCESSED,
    )

    inbound_event_process(event=event)  # reprocessing a confirmed one does not confirm again
    assert len(sns.requests) == 2
    assert SnsSubscription.objects.count() == 1


def test_an_unverified_confirmation_never_reaches_the_subscribe_url(client, account, sns, keys):
    forged = sns_message(sns, keys, "SubscriptionConfirmation", key=keys.other_key)
    tampered = {
        **sns_message(sns, keys, "SubscriptionConfirmation"),
        "SubscribeURL": sns.url("/confirm?Token=attacker"),
    }

    assert post(client, forged).status_code == 401
    assert post(client, tampered).status_code == 401
    process_all()

    assert [path for path in sns.requests if path.startswith("/confirm")] == []
    assert SnsSubscription.objects.count() == 0


def test_a_confirmation_for_an_unconfigured_topic_is_refused(client, account, sns, keys):
    message = sns_message(
        sns, keys, "SubscriptionConfirmation", topic="arn:aws:sns:us-east-1:999999999999:not-ours"
    )
    response = post(client, message)
    process_all()

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert sns.requests == []
    assert SnsSubscription.objects.count() == 0


def test_a_failed_confirmation_is_recorded_with_its_error(client, account, sns, keys):
    sns.routes["/confirm"] = (403, b"<Error><Code>AuthorizationError</Code></Error>")
    post(client, sns_message(sns, keys, "SubscriptionConfirmation"))
    process_all()

    subscription = SnsSubscription.objects.get()
    assert subscription.status == SnsSubscription.Status.FAILED
    assert "403" in subscription.error


def test_a_subscribe_url_on_a_loopback_address_is_never_called_in_production(
    client, account, sns, keys, settings
):
    post(client, sns_message(sns, keys, "SubscriptionConfirmation"))
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False

    process_all()

    assert sns.requests == ["/SimpleNotificationService-test.pem"]
    subscription = SnsSubscription.objects.get()
    assert subscription.status == SnsSubscription.Status.FAILED
    assert "an address we may not call" in subscription.error


def test_an_unsubscribe_confirmation_is_stored_and_ignored(client, account, sns, keys):
    assert post(client, sns_message(sns, keys, "UnsubscribeConfirmation")).status_code == 200
    process_all()

    assert InboundEvent.objects.get().status == InboundEvent.Status.IGNORED
    assert [path for path in sns.requests if path.startswith("/confirm")] == []
    assert SnsSubscription.objects.count() == 0


# --- Admin and the real server ----------------------------------------------------------------


def test_the_amazon_admin_pages_render_read_only(admin_client, account):
    ProcessingReport.objects.create(account=account, kind="feed", external_id="1", type="T")
    SnsSubscription.objects.create(
        account=account,
        topic_arn=TOPIC,
        subscribe_url="https://sns.us-east-1.amazonaws.com/c",
        status="confirmed",
    )
    for model in ["processingreport", "snssubscription"]:
        assert admin_client.get(f"/admin/channels_app/{model}/").status_code == 200, model
        assert admin_client.get(f"/admin/channels_app/{model}/add/").status_code == 403, model


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_a_signed_notification_through_the_real_server_is_stored_once(
    live_app_with_loopback_sns, account, sns, keys
):
    message = sns_message(sns, keys, message=notification("feed_processing_finished"))
    url = f"{live_app_with_loopback_sns}/webhooks/amazon"
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-topic-arn": TOPIC,
    }

    first = requests.post(url, data=json.dumps(message), headers=headers, timeout=10)
    again = requests.post(url, data=json.dumps(message), headers=headers, timeout=10)
    forged = requests.post(
        url, data=json.dumps({**message, "Message": "{}"}), headers=headers, timeout=10
    )

    assert (first.status_code, first.json()["status"]) == (200, "received")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert forged.status_code == 401
    event = InboundEvent.objects.get()
    assert (event.topic, event.external_id) == ("FEED_PROCESSING_FINISHED", message["MessageId"])
    assert event.headers["X-Amz-Sns-Topic-Arn"] == TOPIC
