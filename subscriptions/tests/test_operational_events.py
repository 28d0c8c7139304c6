"""Operational events (endpoint.failing/recovered/disabled, delivery.exhausted) from the real
pump against real receivers on loopback: who gets them, who never does, how often, and email.

Transactional tests: recording publishes after its results commit, as it does in a worker."""

import json
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from config.celery import app as celery_app
from subscriptions.delivery.pump import deliveries_pump
from subscriptions.models import Delivery, Subscription
from subscriptions.services import subscription_create
from subscriptions.tests.receiver import Receiver, Reply
from webhooks.models import Event
from webhooks.services import event_publish

pytestmark = pytest.mark.django_db(transaction=True)

OPERATIONAL = ["endpoint.*", "delivery.exhausted"]


@pytest.fixture
def watcher():
    """The owner's other endpoint, which subscribes to the operational events."""
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def tasks_inline(monkeypatch):
    """Celery tasks run in-process when queued, so the email task's mail reaches mailoutbox."""
    monkeypatch.setattr(celery_app.conf, "task_always_eager", True)


def watching(user, watcher):
    return subscription_create(owner=user, url=watcher.url, event_types=OPERATIONAL)


def endpoint(user, receiver, **options):
    """The endpoint under test; it subscribes to everything, operational events included."""
    options = {"retry_count": 3, "timeout_seconds": 2, **options}
    return subscription_create(owner=user, url=receiver.url, event_types=["*"], **options)


def publish(user, count: int = 1) -> list[Event]:
    return [
        event_publish(owner=user, event_type="task.created", data={"n": n}).event
        for n in range(count)
    ]


def received(receiver) -> list[dict]:
    return [json.loads(request.body) for request in receiver.requests]


def received_types(receiver) -> list[str]:
    return [payload["event_type"] for payload in received(receiver)]


def test_an_endpoint_answering_410_is_reported_disabled_to_the_owners_other_endpoint(
    user, other_user, receiver, watcher
):
    gone = endpoint(user, receiver)
    watching(user, watcher)
    subscription_create(owner=other_user, url=watcher.url, event_types=["*"])
    receiver.default = Reply(status=410)
    publish(user)

    deliveries_pump(idle_seconds=0)

    assert received_types(receiver) == ["task.created"]  # and nothing about itself
    [notice] = received(watcher)  # the owner's other endpoint, not another user's
    assert notice["event_type"] == "endpoint.disabled"
    assert notice["data"] == {
        "endpoint_id": gone.pk,
        "url": gone.url,
        "cause": "gone",
        "reason": "The endpoint answered 410 Gone.",
        "disabled_at": notice["data"]["disabled_at"],
    }
    event = Event.objects.get(event_type="endpoint.disabled")
    assert (event.owner, event.source) == (user, "system")


def test_an_endpoint_failing_for_days_is_reported_disabled_with_that_cause(user, receiver, watcher):
    failing = endpoint(user, receiver)
    Subscription.objects.filter(pk=failing.pk).update(
        failing_since=timezone.now() - timedelta(days=6), consecutive_failures=1
    )
    watching(user, watcher)
    receiver.default = Reply(status=500)
    publish(user)

    deliveries_pump(idle_seconds=0)

    [notice] = received(watcher)
    assert notice["event_type"] == "endpoint.disabled"
    assert notice["data"]["cause"] == "failing"
    assert notice["data"]["reason"].startswith("Failing continuously since")


def test_a_410_from_every_request_in_flight_reports_one_disable(user, receiver, watcher):
    endpoint(user, receiver, max_in_flight=10)
    watching(user, watcher)
    receiver.default = Reply(status=410, delay=0.05)  # so they come back in several batches
    publish(user, 10)

    deliveries_pump(idle_seconds=0)

    assert len(receiver.requests) == 10
    assert received_types(watcher) == ["endpoint.disabled"]


def test_a_delivery_out_of_retries_is_reported_exhausted_but_not_to_its_endpoint(
    user, receiver, watcher, settings
):
    settings.DELIVERY_BACKOFF_CAP_SECONDS = 0.2  # retries due at once, so the test is short
    failing = endpoint(user, receiver, retry_count=2)
    watching(user, watcher)
    receiver.default = Reply(status=500)
    [event] = publish(user)

    deliveries_pump(idle_seconds=1)

    assert received_types(receiver) == ["task.created"] * 3
    [notice] = received(watcher)
    assert notice["event_type"] == "delivery.exhausted"
    assert notice["data"] == {
        "endpoint_id": failing.pk,
        "url": failing.url,
        "delivery_id": Delivery.objects.get(subscription=failing).pk,
        "event_id": event.public_id,
        "event_type": "task.created",
        "attempts": 3,
        "last_status_code": 500,
        "last_error": "HTTP 500",
        "count": 1,
    }


def circuit_opened(user, receiver, settings) -> Subscription:
    """An endpoint whose circuit the pump has just opened: two failures in a row."""
    settings.DELIVERY_BREAKER_THRESHOLD = 2
    flaky = endpoint(user, receiver, max_in_flight=2)
    receiver.default = Reply(status=503)
    publish(user, 4)
    deliveries_pump(idle_seconds=0)
    return flaky


def probe_due(flaky: Subscription) -> None:
    """The cool-down is over: the next pump sends one probe."""
    Subscription.objects.filter(pk=flaky.pk).update(paused_until=timezone.now())
    Delivery.objects.filter(subscription=flaky).update(next_attempt_at=timezone.now())


def test_a_circuit_opening_is_reported_failing(user, receiver, watcher, settings):
    watching(user, watcher)

    flaky = circuit_opened(user, receiver, settings)

    [failing] = received(watcher)
    assert failing["event_type"] == "endpoint.failing"
    assert failing["data"]["endpoint_id"] == flaky.pk
    assert failing["data"]["consecutive_failures"] == 2
    assert failing["data"]["last_status_code"] == 503
    assert set(received_types(receiver)) == {"task.created"}


def test_a_circuit_closing_after_failing_is_reported_recovered(user, receiver, watcher, settings):
    watching(user, watcher)
    flaky = circuit_opened(user, receiver, settings)
    probe_due(flaky)
    receiver.default = Reply(status=200)

    deliveries_pump(idle_seconds=0)  # the probe succeeds: the circuit closes, the rest follow

    assert received_types(watcher) == ["endpoint.failing", "endpoint.recovered"]
    assert received(watcher)[1]["data"]["endpoint_id"] == flaky.pk
    assert set(received_types(receiver)) == {"task.created"}


def test_a_failed_probe_does_not_report_the_same_failing_spell_again(
    user, receiver, watcher, settings
):
    watching(user, watcher)
    flaky = circuit_opened(user, receiver, settings)
    probe_due(flaky)

    deliveries_pump(idle_seconds=0)  # the probe fails: the circuit opens again

    assert Subscription.objects.get(pk=flaky.pk).paused_until > timezone.now()
    assert received_types(watcher) == ["endpoint.failing"]


def test_a_storm_of_failing_deliveries_is_reported_once_with_how_many(
    user, receiver, watcher, settings
):
    settings.DELIVERY_BREAKER_THRESHOLD = 10_000  # the circuit would stop the storm early
    endpoint(user, receiver, retry_count=0, max_in_flight=100)
    watching(user, watcher)
    receiver.default = Reply(status=400)  # never retried: each one fails for good at once
    publish(user, 400)

    deliveries_pump(idle_seconds=0)

    assert Delivery.objects.filter(status=Delivery.Status.FAILED).count() == 400
    [notice] = received(watcher)
    assert notice["event_type"] == "delivery.exhausted"
    assert 1 <= notice["data"]["count"] < 400  # the first batch; the rest wait for the next
    assert Event.objects.filter(event_type="delivery.exhausted").count() == 1


def test_failures_within_the_window_are_counted_into_the_next_report(
    user, receiver, watcher, settings
):
    settings.DELIVERY_BREAKER_THRESHOLD = 10_000
    settings.OPERATIONAL_EVENT_WINDOW_SECONDS = 3
    endpoint(user, receiver, retry_count=0, max_in_flight=1)  # one per batch
    watching(user, watcher)
    receiver.default = Reply(status=400)
    publish(user, 3)
    deliveries_pump(idle_seconds=0)

    time.sleep(3.1)  # the window ends
    publish(user)
    deliveries_pump(idle_seconds=0)

    counts = [payload["data"]["count"] for payload in received(watcher)]
    assert counts == [1, 3]  # the first at once; the two it held back come with the next


def test_failed_deliveries_of_operational_events_are_not_reported(
    user, receiver, watcher, settings
):
    settings.DELIVERY_BREAKER_THRESHOLD = 10_000
    first = endpoint(user, receiver, retry_count=0)
    second = subscription_create(
        owner=user, url=watcher.url, event_types=["delivery.exhausted"], retry_count=0
    )
    receiver.default = watcher.default = Reply(status=400)  # both endpoints fail
    publish(user)

    deliveries_pump(idle_seconds=0)

    # `first` failed a task event, reported to `second`, which failed it: that ends there.
    about = Event.objects.filter(event_type="delivery.exhausted")
    assert [e.data["endpoint_id"] for e in about] == [first.pk]
    assert received_types(watcher) == ["delivery.exhausted"]
    assert Delivery.objects.get(subscription=second).status == Delivery.Status.FAILED


def test_an_operational_event_is_not_fanned_out_to_the_endpoint_it_is_about(user, receiver):
    about = endpoint(user, receiver)
    other = endpoint(user, receiver)

    result = event_publish(
        owner=user,
        event_type="endpoint.failing",
        data={"endpoint_id": about.pk, "url": about.url},
        source="system",
    )

    assert result.deliveries == 1
    assert list(Delivery.objects.values_list("subscription_id", flat=True)) == [other.pk]


@pytest.mark.parametrize(
    ("source", "subject"),
    [("api", "own"), ("system", "not-an-id"), ("system", True)],
    ids=["published-by-a-user", "id-not-an-integer", "id-a-boolean"],
)
def test_an_event_not_published_as_operational_goes_to_every_match(user, receiver, source, subject):
    about = endpoint(user, receiver)
    endpoint(user, receiver)

    result = event_publish(
        owner=user,
        event_type="endpoint.failing",
        data={"endpoint_id": about.pk if subject == "own" else subject},
        source=source,
    )

    assert result.deliveries == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="one statement on PostgreSQL")
def test_publishing_an_operational_event_is_still_one_statement(
    user, receiver, django_assert_num_queries
):
    about = endpoint(user, receiver)
    for _ in range(50):
        endpoint(user, receiver)

    with django_assert_num_queries(1):
        result = event_publish(
            owner=user,
            event_type="delivery.exhausted",
            data={"endpoint_id": about.pk},
            source="system",
        )

    assert result.deliveries == 50


def refusing_operational_keys(key: str, key_prefix: str, version: int) -> str:
    """A cache key function that fails for the rate limits' keys, as a cache that is down
    would, and leaves the keys the pump itself uses working."""
    if key.startswith("operational:"):
        raise ConnectionError("the cache is down")
    return f"{key_prefix}:{version}:{key}"


def test_a_failure_to_publish_never_breaks_recording(user, receiver, settings, caplog):
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "KEY_FUNCTION": f"{__name__}.refusing_operational_keys",
        }
    }
    gone = endpoint(user, receiver)
    receiver.default = Reply(status=410)
    publish(user)

    deliveries_pump(idle_seconds=0)

    gone.refresh_from_db()
    assert gone.is_active is False
    assert Delivery.objects.get().status == Delivery.Status.FAILED
    assert "operational.failed" in [record.message for record in caplog.records]
    assert not Event.objects.filter(event_type="endpoint.disabled").exists()


def test_the_owner_is_emailed_when_an_endpoint_is_disabled(
    user, receiver, mailoutbox, tasks_inline
):
    user.email = "alice@example.com"
    user.save()
    gone = endpoint(user, receiver)
    receiver.default = Reply(status=410)
    publish(user)

    deliveries_pump(idle_seconds=0)

    [mail] = mailoutbox
    assert mail.to == ["alice@example.com"]
    assert mail.subject == f"Webhook endpoint disabled: {gone.url}"
    assert "The endpoint answered 410 Gone." in mail.body
    assert f"/api/webhooks/{gone.pk}/recover" in mail.body


def test_the_owner_is_emailed_about_deliveries_that_failed_for_good(
    user, receiver, mailoutbox, tasks_inline
):
    user.email = "alice@example.com"
    user.save()
    failing = endpoint(user, receiver, retry_count=0)
    receiver.default = Reply(status=400)
    [event] = publish(user)

    deliveries_pump(idle_seconds=0)

    [mail] = mailoutbox
    assert mail.subject == f"Webhook deliveries failed: {failing.url}"
    assert f"1 delivery to your webhook endpoint {failing.url}" in mail.body
    assert event.public_id in mail.body
    assert "last answer: 400" in mail.body


@pytest.mark.parametrize(
    ("emails_on", "address"), [(False, "alice@example.com"), (True, "")], ids=["off", "no-address"]
)
def test_no_email_goes_out_when_switched_off_or_without_an_address(
    user, receiver, mailoutbox, tasks_inline, settings, emails_on, address
):
    settings.OPERATIONAL_EMAILS = emails_on
    user.email = address
    user.save()
    endpoint(user, receiver)
    receiver.default = Reply(status=410)
    publish(user)

    deliveries_pump(idle_seconds=0)

    assert Event.objects.filter(event_type="endpoint.disabled").exists()
    assert mailoutbox == []
