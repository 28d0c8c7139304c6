"""Delivery through a real Celery worker on Redis and PostgreSQL: nothing lost, nothing doubled."""

import os
import signal
from datetime import timedelta

import pytest
import redis

from conftest import wait_until
from subscriptions.delivery.dispatch import PUMP_TASK
from subscriptions.delivery.maintenance import deliveries_sweep
from subscriptions.models import Delivery, DeliveryAttempt, Subscription
from subscriptions.services import subscription_create
from subscriptions.tests.receiver import Reply
from webhooks.services import event_publish

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

Status = Delivery.Status


def statuses():
    return sorted(Delivery.objects.values_list("status", flat=True))


def test_published_events_reach_the_receiver_through_the_worker(
    user, subscription, receiver, celery_worker
):
    for number in range(20):
        event_publish(owner=user, event_type="task.created", data={"n": number})

    wait_until(lambda: statuses() == [Status.SUCCEEDED] * 20, timeout=30)
    assert sorted(int(r.body.split(b'"n":')[1].rstrip(b"}")) for r in receiver.requests) == (
        list(range(20))
    )


def test_a_delivery_of_a_killed_worker_is_picked_up_by_the_sweep(
    user, subscription, receiver, start_worker
):
    Subscription.objects.filter(pk=subscription.pk).update(timeout_seconds=1)
    receiver.script(Reply(delay=30))  # the first attempt hangs until the worker dies
    worker = start_worker(DELIVERY_CLAIM_MARGIN_SECONDS="0")
    event_publish(owner=user, event_type="task.created", data={"n": 1})
    wait_until(lambda: receiver.requests, timeout=20)

    # kill -9 the whole worker (parent and pool children) in the middle of the send
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    assert statuses() == [Status.DELIVERING]

    start_worker(DELIVERY_CLAIM_MARGIN_SECONDS="0")
    wait_until(
        lambda: deliveries_sweep().released or statuses() != [Status.DELIVERING],
        timeout=20,
        interval=0.5,
    )
    wait_until(lambda: statuses() == [Status.SUCCEEDED], timeout=20)
    assert len(receiver.requests) == 2


def test_a_purged_queue_delays_but_never_drops_a_delivery(
    user, subscription, receiver, start_worker
):
    from config.celery import app

    event_publish(owner=user, event_type="task.created", data={"n": 1})
    with app.connection_for_write() as connection:
        # The wake-up message is gone; the row is not.
        assert connection.default_channel.queue_purge("deliveries") >= 1
    start_worker()
    assert deliveries_sweep().woken == 1
    wait_until(lambda: statuses() == [Status.SUCCEEDED], timeout=20)
    assert len(receiver.requests) == 1


def subscribe_many(user, receiver, count: int, **options) -> list[Subscription]:
    return [
        subscription_create(owner=user, url=receiver.url, event_types=["*"], **options)
        for _ in range(count)
    ]


def test_a_worker_keeps_more_requests_in_flight_than_it_has_processes(
    user, receiver, celery_worker
):
    subscribe_many(user, receiver, 4)
    receiver.default = Reply(delay=0.5)
    for number in range(10):
        event_publish(owner=user, event_type="task.created", data={"n": number})

    wait_until(lambda: statuses() == [Status.SUCCEEDED] * 40, timeout=30)
    assert receiver.most_open_requests > 2 * 4  # far more than 2 processes, one each, could


def test_max_in_flight_holds_across_worker_processes(user, receiver, start_worker):
    from config.celery import app

    [subscription] = subscribe_many(user, receiver, 1, max_in_flight=3)
    receiver.default = Reply(delay=0.3)
    # Each pump holds one request, so three open at once are three processes' doing; the
    # four pumps keep looking while the endpoint is full, so each slot is contended.
    for _ in range(2):
        start_worker(DELIVERY_CONCURRENCY="1", DELIVERY_PUMP_IDLE_SECONDS="3")
    for number in range(30):
        event_publish(owner=user, event_type="task.created", data={"n": number})
    for _ in range(4):  # a pump on every process of both workers
        app.send_task(PUMP_TASK)
    wait_until(lambda: statuses() == [Status.SUCCEEDED] * 30, timeout=60)
    assert receiver.most_open_requests == subscription.max_in_flight


def test_a_retry_is_attempted_within_a_second_of_its_time(user, receiver, celery_worker):
    subscribe_many(user, receiver, 1)
    receiver.script(*[Reply(status=503, headers={"Retry-After": "2"})] * 2)
    event_publish(owner=user, event_type="task.created", data={"n": 1})

    wait_until(lambda: statuses() == [Status.SUCCEEDED], timeout=30)
    first, second, third = DeliveryAttempt.objects.order_by("number")
    for earlier, later in ((first, second), (second, third)):
        due = earlier.started_at + timedelta(milliseconds=earlier.duration_ms, seconds=2)
        assert 0 <= (later.started_at - due).total_seconds() <= 1


def test_a_worker_killed_with_200_in_flight_and_a_flushed_broker_loses_nothing(
    user, receiver, start_worker, settings
):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("flushes a Redis broker")
    subscribe_many(user, receiver, 20, timeout_seconds=5)  # 20 x max_in_flight 10 = 200
    receiver.default = Reply(delay=4)  # answers after the worker is dead
    worker = start_worker(DELIVERY_CLAIM_MARGIN_SECONDS="0")
    for number in range(10):
        event_publish(owner=user, event_type="task.created", data={"n": number})
    wait_until(lambda: receiver.open_requests == 200, timeout=30)

    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    receiver.default = Reply()
    assert statuses() == [Status.DELIVERING] * 200

    start_worker(DELIVERY_CLAIM_MARGIN_SECONDS="0")
    wait_until(
        lambda: deliveries_sweep() and statuses() == [Status.SUCCEEDED] * 200,
        timeout=60,
        interval=0.5,
    )
    resent = len(receiver.requests) - 200
    assert 0 < resent <= 200  # at most what was in flight when the worker died
    assert DeliveryAttempt.objects.count() == 200  # the killed sends were never recorded
