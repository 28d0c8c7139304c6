"""Outbound metrics on /metrics after real deliveries to real receivers on loopback."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.utils import timezone

from config.tests.scrape import scrape
from subscriptions.delivery.claims import deliveries_claim
from subscriptions.delivery.pump import deliveries_pump
from subscriptions.models import Delivery
from subscriptions.services import subscription_create
from subscriptions.tests.receiver import Receiver, Reply
from webhooks.services import event_publish

pytestmark = pytest.mark.django_db

OUTCOMES = ("succeeded", "retry", "failed", "gone")


REPLIES = {
    "succeeded": Reply(delay=0.2),
    "retry": Reply(status=500),
    "failed": Reply(status=400),
    "gone": Reply(status=410),
}


@pytest.fixture
def endpoint(user):
    """endpoint(outcome): a subscription to a receiver of its own that always answers so."""
    started = []

    def subscribe(outcome: str):
        receiver = Receiver().start()
        receiver.default = REPLIES[outcome]
        started.append(receiver)
        return subscription_create(
            owner=user, url=receiver.url, event_types=["task.*"], retry_count=3
        )

    yield subscribe
    with ThreadPoolExecutor() as pool:  # each stop waits up to half a second for its server
        list(pool.map(Receiver.stop, started))


def publish(user):
    return event_publish(owner=user, event_type="task.created", data={"task_id": "t1"})


def test_each_attempt_is_counted_by_outcome_with_its_duration_and_wait_since_publish(
    user, endpoint, client
):
    for outcome in OUTCOMES:
        endpoint(outcome)
    publish(user)
    Delivery.objects.update(created_at=timezone.now() - timedelta(seconds=60))
    before = scrape(client)

    assert deliveries_pump(idle_seconds=0) == 4

    after = scrape(client)

    def delta(name, **labels):
        return after.value(name, **labels) - before.value(name, **labels)

    for outcome in OUTCOMES:
        assert delta("outbound_deliveries_total", outcome=outcome) == 1, outcome
        assert delta("outbound_attempt_duration_seconds_count", outcome=outcome) == 1, outcome
    # Seconds, not milliseconds: the 200 came after the receiver's 0.2 s delay.
    assert 0.2 <= delta("outbound_attempt_duration_seconds_sum", outcome="succeeded") < 2
    assert delta("outbound_queue_wait_seconds_count") == 4
    assert 4 * 60 <= delta("outbound_queue_wait_seconds_sum") < 4 * 61
    # The 500 left a retry due in about 2 s; the 410 disabled its endpoint.
    assert after.value("outbound_backlog", due="now") == 0
    assert after.value("outbound_backlog", due="later") == 1
    assert after.value("outbound_endpoints_disabled") == 1
    assert after.value("outbound_in_flight") == 0


def test_only_a_deliverys_first_attempt_gives_its_queue_wait(user, endpoint, client, settings):
    settings.DELIVERY_BACKOFF_CAP_SECONDS = 0.1  # the retry is due at once
    endpoint("retry")
    publish(user)
    before = scrape(client)

    deliveries_pump(idle_seconds=0.5)

    after = scrape(client)
    attempts = Delivery.objects.get().attempt_count
    assert attempts == 4  # the first try and its 3 retries, then failed
    retried = after.value("outbound_deliveries_total", outcome="retry") - before.value(
        "outbound_deliveries_total", outcome="retry"
    )
    assert retried == 3
    assert (
        after.value("outbound_queue_wait_seconds_count")
        - before.value("outbound_queue_wait_seconds_count")
        == 1
    )


def test_backlog_in_flight_and_open_circuits_are_read_from_the_database(
    user, endpoint, client, settings
):
    settings.DELIVERY_BREAKER_THRESHOLD = 1
    failing = endpoint("retry")
    publish(user)
    deliveries_pump(idle_seconds=0)  # one 500: the endpoint's circuit opens
    healthy = endpoint("succeeded")
    for _ in range(3):
        publish(user)
    failing.refresh_from_db()
    assert failing.paused_until > timezone.now()

    waiting = scrape(client)
    claimed = deliveries_claim(capacity=2, now=timezone.now())  # what a pump does first
    sending = scrape(client)

    assert waiting.value("outbound_endpoints_circuit_open") == 1
    assert waiting.value("outbound_backlog", due="now") == 3 + 3  # due, paused or not
    assert waiting.value("outbound_backlog", due="later") == 1  # the first event's retry
    assert waiting.value("outbound_in_flight") == 0
    assert [d.subscription_id for d in claimed] == [healthy.pk] * 2
    assert sending.value("outbound_backlog", due="now") == 6 - 2
    assert sending.value("outbound_in_flight") == 2
