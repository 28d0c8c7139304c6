"""Delivery through a real Celery worker on Redis and PostgreSQL: nothing lost, nothing doubled."""

import os
import signal

import pytest

from conftest import child_env, database_url_for_children, start_celery_worker, wait_until
from subscriptions.delivery.maintenance import deliveries_sweep
from subscriptions.models import Delivery, Subscription
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
    user, subscription, receiver, tmp_path
):
    env = child_env(DATABASE_URL=database_url_for_children(), DELIVERY_CLAIM_MARGIN_SECONDS="0")
    Subscription.objects.filter(pk=subscription.pk).update(timeout_seconds=1)
    receiver.script(Reply(delay=30))  # the first attempt hangs until the worker dies
    worker = start_celery_worker(env, tmp_path / "worker-1.log")
    event_publish(owner=user, event_type="task.created", data={"n": 1})
    wait_until(lambda: receiver.requests, timeout=20)

    # kill -9 the whole worker (parent and pool children) in the middle of the send
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    assert statuses() == [Status.DELIVERING]

    replacement = start_celery_worker(env, tmp_path / "worker-2.log")
    try:
        wait_until(
            lambda: deliveries_sweep().released or statuses() != [Status.DELIVERING],
            timeout=20,
            interval=0.5,
        )
        wait_until(lambda: statuses() == [Status.SUCCEEDED], timeout=20)
    finally:
        replacement.stop()
    assert len(receiver.requests) == 2


def test_a_purged_queue_delays_but_never_drops_a_delivery(user, subscription, receiver, tmp_path):
    from config.celery import app

    event_publish(owner=user, event_type="task.created", data={"n": 1})
    with app.connection_for_write() as connection:
        # The wake-up message is gone; the row is not.
        assert connection.default_channel.queue_purge("deliveries") >= 1
    worker = start_celery_worker(
        child_env(DATABASE_URL=database_url_for_children()), tmp_path / "worker.log"
    )
    try:
        assert deliveries_sweep().woken == 1
        wait_until(lambda: statuses() == [Status.SUCCEEDED], timeout=20)
    finally:
        worker.stop()
    assert len(receiver.requests) == 1
