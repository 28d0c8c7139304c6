"""The delivery engine against a real HTTP receiver on loopback, called in-process."""

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta

import pytest
import redis
from django.db import connection
from django.utils import timezone
from standardwebhooks import Webhook

from conftest import wait_until
from subscriptions.delivery.claims import deliveries_claim
from subscriptions.delivery.maintenance import deliveries_cleanup, deliveries_sweep
from subscriptions.delivery.pump import deliveries_pump
from subscriptions.models import Delivery, DeliveryAttempt, Subscription
from subscriptions.services import (
    subscription_create,
    subscription_delete,
    subscription_rotate_secret,
)
from subscriptions.tests.receiver import Reply
from webhooks.models import Event
from webhooks.services import event_publish

pytestmark = pytest.mark.django_db

Status = Delivery.Status


def publish(user, event_type="task.completed", data=None):
    return event_publish(owner=user, event_type=event_type, data=data or {"task_id": "t1"})


def send(subscription=None) -> int:
    """Run a pump in-process until nothing is due; returns how many requests it made."""
    return deliveries_pump(idle_seconds=0)


def the_delivery() -> Delivery:
    return Delivery.objects.get()


def test_a_published_event_is_delivered_signed_both_ways(user, subscription, receiver):
    data = {"task_id": "t1", "title": "Zoë's 東京 report", "done": True, "n": 1.5}
    event = publish(user, data=data).event

    assert send(subscription) == 1

    [request] = receiver.requests
    assert json.loads(request.body) == {
        "id": event.public_id,
        "event_type": "task.completed",
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    # The Standard Webhooks reference verifier accepts it...
    assert Webhook(subscription.secret).verify(request.body, request.headers)["data"] == data
    # ...and so does the legacy snippet our older receivers run.
    payload = json.loads(request.body)
    expected = hmac.new(
        subscription.secret.encode(),
        json.dumps(payload, separators=(",", ":")).encode(),
        hashlib.sha256,
    ).hexdigest()
    assert request.headers["X-Webhook-Signature"] == f"sha256={expected}"
    assert request.headers["X-Webhook-Event"] == "task.completed"
    assert request.headers["User-Agent"].startswith("WebhookPlatform/")
    delivery = the_delivery()
    assert delivery.status == Status.SUCCEEDED
    assert delivery.attempt_count == 1


def test_only_matching_active_subscriptions_of_the_owner_get_a_delivery(user, other_user, receiver):
    wanted = subscription_create(owner=user, url=receiver.url, event_types=["task.*"])
    subscription_create(owner=user, url=receiver.url, event_types=["email.received"])
    subscription_create(owner=other_user, url=receiver.url, event_types=["*"])
    inactive = subscription_create(owner=user, url=receiver.url, event_types=["*"])
    Subscription.objects.filter(pk=inactive.pk).update(is_active=False)

    result = publish(user)

    assert result.deliveries == 1
    assert list(Delivery.objects.values_list("subscription_id", flat=True)) == [wanted.pk]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="one statement on PostgreSQL")
def test_publishing_to_many_subscriptions_is_one_statement(
    user, receiver, django_assert_num_queries, django_capture_on_commit_callbacks
):
    for _ in range(50):
        subscription_create(owner=user, url=receiver.url, event_types=["task.*"])

    with django_capture_on_commit_callbacks() as woken, django_assert_num_queries(1):
        result = publish(user)

    assert result.deliveries == 50
    assert Delivery.objects.filter(event=result.event, status=Delivery.Status.PENDING).count() == 50
    assert len(woken) == 1  # one wake for the event, however many deliveries


def test_wildcards_select_subscriptions_in_the_database_as_in_python(user, receiver):
    from subscriptions.services import subscription_delete

    star = subscription_create(owner=user, url=receiver.url, event_types=["*"])
    nested = subscription_create(owner=user, url=receiver.url, event_types=["calendar.event.*"])
    top = subscription_create(owner=user, url=receiver.url, event_types=["calendar.*"])
    subscription_create(owner=user, url=receiver.url, event_types=["calendar.event.deleted"])
    deleted = subscription_create(owner=user, url=receiver.url, event_types=["*"])
    subscription_delete(subscription=deleted)

    result = publish(user, event_type="calendar.event.created", data={"event_id": "c1"})

    assert result.deliveries == 3
    assert set(Delivery.objects.values_list("subscription_id", flat=True)) == {
        star.pk,
        nested.pk,
        top.pk,
    }


def test_the_attempt_is_recorded_with_redacted_signatures(user, subscription, receiver):
    receiver.script(Reply(status=500, body=b"boom" * 2000, headers={"X-Trace": "abc"}))
    publish(user)

    send(subscription)

    attempt = DeliveryAttempt.objects.get()
    assert attempt.number == 1
    assert attempt.response_status == 500
    assert attempt.response_headers["X-Trace"] == "abc"
    assert len(attempt.response_body) == 4096
    assert attempt.request_headers["webhook-signature"] == "[redacted]"
    assert attempt.request_headers["X-Webhook-Signature"] == "[redacted]"
    assert attempt.request_headers["webhook-id"].startswith("evt_")
    assert attempt.error_kind == "http"


def test_a_failed_attempt_schedules_the_retry_on_the_row(user, subscription, receiver):
    receiver.script(Reply(status=503))
    publish(user)
    before = timezone.now()

    send(subscription)

    delivery = the_delivery()
    assert delivery.status == Status.PENDING
    assert delivery.last_status_code == 503
    delay = (delivery.next_attempt_at - before).total_seconds()
    assert 1.6 <= delay <= 2.4 + 1  # 2 s ± 20 %, plus the time the attempt took


def test_retries_follow_the_schedule_and_then_fail(user, subscription, receiver):
    receiver.default = Reply(status=500)
    publish(user)
    delays = []
    for _ in range(4):
        Delivery.objects.update(next_attempt_at=timezone.now())
        started = timezone.now()
        send(subscription)
        delivery = the_delivery()
        if delivery.next_attempt_at:
            delays.append((delivery.next_attempt_at - started).total_seconds())

    assert len(delays) == 3
    for delay, expected in zip(delays, [2, 4, 8], strict=True):
        assert expected * 0.8 <= delay <= expected * 1.2 + 0.5  # ±20 % jitter, plus send time
    assert delivery.status == Status.FAILED
    assert delivery.attempt_count == 4  # the first try and retry_count=3 retries
    assert len(receiver.requests) == 4


def test_retry_after_is_honoured(user, subscription, receiver):
    receiver.script(Reply(status=429, headers={"Retry-After": "90"}))
    publish(user)

    send(subscription)

    delay = (the_delivery().next_attempt_at - timezone.now()).total_seconds()
    assert 85 <= delay <= 90


def test_redirects_are_not_followed(user, subscription, receiver):
    receiver.script(Reply(status=302, headers={"Location": "/elsewhere"}))
    publish(user)

    send(subscription)

    assert receiver.paths() == ["/hook"]
    delivery = the_delivery()
    assert delivery.status == Status.FAILED
    assert DeliveryAttempt.objects.get().error_kind == "redirect"


def test_a_private_address_is_refused_at_send_time_in_production(
    user, subscription, receiver, settings
):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    publish(user)

    send(subscription)

    assert receiver.requests == []
    attempt = DeliveryAttempt.objects.get()
    assert attempt.error_kind == "forbidden_address"
    assert the_delivery().status == Status.FAILED


def test_410_gone_disables_the_subscription(user, subscription, receiver):
    Subscription.objects.filter(pk=subscription.pk).update(max_in_flight=1)  # one at a time
    receiver.script(Reply(status=410))
    publish(user)
    publish(user, data={"task_id": "t2"})

    send(subscription)

    subscription.refresh_from_db()
    assert subscription.is_active is False
    assert "410" in subscription.disabled_reason
    assert len(receiver.requests) == 1
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.FAILED}


def test_the_breaker_pauses_a_failing_endpoint_and_keeps_its_work_pending(
    user, subscription, receiver, settings
):
    settings.DELIVERY_BREAKER_THRESHOLD = 2
    Subscription.objects.filter(pk=subscription.pk).update(max_in_flight=2)
    receiver.default = Reply(status=500)
    for number in range(5):
        publish(user, data={"task_id": f"t{number}"})

    send(subscription)

    subscription.refresh_from_db()
    assert len(receiver.requests) == 2  # the two in flight when the circuit opened
    assert subscription.paused_until > timezone.now()
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.PENDING}
    assert send(subscription) == 0  # paused: nothing is attempted

    # After the cool-down a probe goes out; it succeeds, the circuit closes, the rest follow.
    Subscription.objects.filter(pk=subscription.pk).update(paused_until=timezone.now())
    Delivery.objects.update(next_attempt_at=timezone.now())
    receiver.default = Reply(status=200)
    assert send(subscription) == 5
    subscription.refresh_from_db()
    assert (subscription.consecutive_failures, subscription.paused_until) == (0, None)


def test_a_half_open_endpoint_is_sent_one_probe(user, subscription, settings):
    Subscription.objects.filter(pk=subscription.pk).update(
        consecutive_failures=settings.DELIVERY_BREAKER_THRESHOLD,
        paused_until=timezone.now() - timedelta(seconds=1),
    )
    for number in range(3):
        publish(user, data={"task_id": f"t{number}"})

    assert len(deliveries_claim(capacity=10, now=timezone.now())) == 1


def test_a_subscription_failing_for_days_is_disabled(user, subscription, receiver):
    Subscription.objects.filter(pk=subscription.pk).update(
        failing_since=timezone.now() - timedelta(days=6), consecutive_failures=1
    )
    receiver.script(Reply(status=500))
    publish(user)

    send(subscription)

    subscription.refresh_from_db()
    assert subscription.is_active is False
    assert "Failing continuously" in subscription.disabled_reason


def test_running_the_same_task_twice_sends_once(user, subscription, receiver):
    publish(user)

    assert send(subscription) == 1
    assert send(subscription) == 0
    assert len(receiver.requests) == 1


def test_a_pump_out_of_time_claims_nothing_more_and_queues_its_successor(
    user, subscription, receiver, settings
):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("counts messages in a Redis broker")
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for number in range(3):
        publish(user, data={"task_id": f"t{number}"})
    broker.flushdb()

    assert deliveries_pump(max_seconds=0) == 0

    assert broker.llen("deliveries") == 1  # the successor
    assert deliveries_pump(idle_seconds=0) == 3


def test_a_delivery_claimed_by_another_worker_is_not_sent_again(user, subscription, receiver):
    publish(user)
    Delivery.objects.update(
        status=Status.DELIVERING, claimed_until=timezone.now() + timedelta(minutes=1)
    )
    second = publish(user, data={"task_id": "t2"}).event

    assert send(subscription) == 1
    assert [r.headers["webhook-id"] for r in receiver.requests] == [second.public_id]


@pytest.mark.django_db(transaction=True)
def test_two_claimers_at_once_never_exceed_an_endpoints_max_in_flight(user, subscription):
    Subscription.objects.filter(pk=subscription.pk).update(max_in_flight=2)
    for number in range(4):
        publish(user, data={"task_id": f"t{number}"})
    start, claims = threading.Barrier(2), []

    def claim():
        start.wait()
        try:
            claims.append(deliveries_claim(capacity=10, now=timezone.now()))
        finally:
            connection.close()

    claimers = [threading.Thread(target=claim) for _ in range(2)]
    for claimer in claimers:
        claimer.start()
    for claimer in claimers:
        claimer.join()

    assert sum(len(batch) for batch in claims) == 2
    assert deliveries_claim(capacity=10, now=timezone.now()) == []  # still two in flight


def test_a_reply_carrying_nul_bytes_is_recorded_not_resent(user, subscription, receiver):
    receiver.script(Reply(status=200, body=b"ok\x00binary", headers={"X-Odd": "a"}))
    publish(user)

    assert send(subscription) == 1

    assert the_delivery().status == Status.SUCCEEDED
    assert DeliveryAttempt.objects.get().response_body == "ok\ufffdbinary"


@pytest.mark.django_db(transaction=True)
def test_a_subscription_deleted_mid_send_leaves_its_delivery_cancelled(
    user, subscription, receiver
):
    receiver.script(Reply(status=500, delay=1.0))  # would be a retry, pending again
    publish(user)

    def send_and_close():
        send(subscription)
        connection.close()

    sender = threading.Thread(target=send_and_close)
    sender.start()
    wait_until(lambda: receiver.requests)
    subscription_delete(subscription=subscription)
    sender.join()

    assert the_delivery().status == Status.CANCELLED
    assert DeliveryAttempt.objects.count() == 1  # the request went out, so it is recorded


def test_an_interrupted_test_send_fails_rather_than_turning_into_retries(subscription):
    delivery = subscription_test_send_stranded(subscription)

    result = deliveries_sweep()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == (Status.FAILED, None)
    assert result.released == 0


def subscription_test_send_stranded(subscription) -> Delivery:
    """A test send whose web worker died mid-request: delivering, its claim lapsed."""
    event = Event.objects.create(
        public_id="evt_test_stranded", owner_id=subscription.owner_id, event_type="webhook.test",
        source="test", data={}, created_at=timezone.now(),
    )  # fmt: skip
    return Delivery.objects.create(
        event=event, subscription=subscription, status=Status.DELIVERING,
        claimed_until=timezone.now() - timedelta(seconds=1),
    )  # fmt: skip


def test_the_sweep_releases_a_stranded_delivery_which_then_goes_out(user, subscription, receiver):
    publish(user)
    Delivery.objects.update(
        status=Status.DELIVERING, claimed_until=timezone.now() - timedelta(seconds=1)
    )

    result = deliveries_sweep()

    assert result.released == 1
    assert result.woken == 1
    assert the_delivery().status == Status.PENDING
    assert send(subscription) == 1
    assert the_delivery().status == Status.SUCCEEDED


def test_the_sweep_leaves_paused_and_disabled_subscriptions_asleep(user, subscription, receiver):
    publish(user)
    Subscription.objects.filter(pk=subscription.pk).update(is_active=False)
    assert deliveries_sweep().woken == 0

    Subscription.objects.filter(pk=subscription.pk).update(
        is_active=True, paused_until=timezone.now() + timedelta(minutes=1)
    )
    assert deliveries_sweep().woken == 0

    Subscription.objects.filter(pk=subscription.pk).update(paused_until=None)
    assert deliveries_sweep().woken == 1


def test_a_rotated_secret_signs_alongside_the_new_one(user, subscription, receiver):
    old_secret = subscription.secret
    subscription_rotate_secret(subscription=subscription)
    publish(user)

    send(subscription)

    request = receiver.requests[0]
    assert len(request.headers["webhook-signature"].split()) == 2
    Webhook(old_secret).verify(request.body, request.headers)
    Webhook(subscription.secret).verify(request.body, request.headers)


def test_cleanup_deletes_old_finished_history_but_never_pending_work(user, subscription):
    old = timezone.now() - timedelta(days=31)
    finished_event = publish(user).event
    pending_event = publish(user, data={"task_id": "t2"}).event
    recent_event = publish(user, data={"task_id": "t3"}).event
    Event.objects.filter(pk__in=[finished_event.pk, pending_event.pk]).update(created_at=old)
    Delivery.objects.filter(event__in=[finished_event, pending_event]).update(created_at=old)
    Delivery.objects.filter(event=finished_event).update(status=Status.SUCCEEDED)

    deleted = deliveries_cleanup(batch_size=1)

    assert deleted["deliveries"] == 1
    assert deleted["events"] == 1
    remaining = set(Event.objects.values_list("pk", flat=True))
    assert remaining == {pending_event.pk, recent_event.pk}
    assert Delivery.objects.filter(status=Status.PENDING).count() == 2


def test_timeouts_are_enforced(user, subscription, receiver):
    Subscription.objects.filter(pk=subscription.pk).update(timeout_seconds=1)
    receiver.script(Reply(delay=3))
    publish(user)
    started = time.monotonic()

    send(subscription)

    assert time.monotonic() - started < 2.5
    assert DeliveryAttempt.objects.get().error_kind == "timeout"
    assert the_delivery().status == Status.PENDING
