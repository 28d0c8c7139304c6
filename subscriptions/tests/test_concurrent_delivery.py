"""The pump's concurrent path, in-process against real HTTP servers on loopback: requests in
flight at once, per-endpoint caps, ordering, throttling, and every rule of the hardened client."""

import json
import socket
import threading

import pytest
from django.utils import timezone

from subscriptions.delivery.pump import deliveries_pump
from subscriptions.models import Delivery, DeliveryAttempt, Subscription
from subscriptions.services import subscription_create
from subscriptions.tests.receiver import Reply
from webhooks.services import event_publish

pytestmark = pytest.mark.django_db

Status = Delivery.Status


def publish_numbered(user, count: int) -> None:
    for number in range(count):
        event_publish(owner=user, event_type="task.created", data={"n": number})


def numbers(requests) -> list[int]:
    return [json.loads(r.body)["data"]["n"] for r in requests]


def test_many_requests_are_in_flight_at_once_within_each_endpoints_cap(user, receiver):
    for _ in range(3):
        subscription_create(owner=user, url=receiver.url, event_types=["*"], max_in_flight=8)
    receiver.default = Reply(delay=0.5)
    publish_numbered(user, 10)  # 30 deliveries: 10 to each of 3 endpoints

    assert deliveries_pump(idle_seconds=0) == 30

    assert receiver.most_open_requests == 24  # 8 to each endpoint at once, never more
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.SUCCEEDED}


def test_max_in_flight_one_delivers_in_creation_order_through_failures(user, receiver, settings):
    settings.DELIVERY_BACKOFF_CAP_SECONDS = 0.2  # retries due at once, so the test is short
    subscription_create(owner=user, url=receiver.url, event_types=["*"], max_in_flight=1)
    failing_first = {3, 10, 11, 30, 49}
    for number in range(50):
        receiver.script(*([Reply(status=500)] if number in failing_first else []), Reply())
    publish_numbered(user, 50)

    deliveries_pump(idle_seconds=1)

    sent = numbers(receiver.requests)
    assert sent == sorted(sent)  # a retry held back every later event
    assert len(sent) == 50 + len(failing_first)
    assert receiver.most_open_requests == 1
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.SUCCEEDED}


def test_the_rate_limit_spaces_requests_out(user, receiver):
    subscription_create(owner=user, url=receiver.url, event_types=["*"], rate_limit_per_second=5)
    publish_numbered(user, 12)

    deliveries_pump(idle_seconds=1)

    arrivals = [r.at for r in receiver.requests]
    assert len(arrivals) == 12
    busiest_second = max(sum(1 for t in arrivals if start <= t < start + 1) for start in arrivals)
    assert busiest_second <= 6  # 5 a second, and the first one of a window's edge
    assert arrivals[-1] - arrivals[0] >= 11 / 5 * 0.9


def test_a_hostname_resolving_to_loopback_is_refused_in_production(user, receiver, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    url = receiver.url.replace("127.0.0.1", "localhost")
    subscription_create(owner=user, url=url, event_types=["*"])
    publish_numbered(user, 1)

    deliveries_pump(idle_seconds=0)

    assert receiver.requests == []
    attempt = DeliveryAttempt.objects.get()
    assert attempt.error_kind == "forbidden_address"
    assert "127.0.0.1" in attempt.error_message
    assert Delivery.objects.get().status == Status.FAILED


def test_a_redirect_to_the_metadata_address_is_not_followed(user, receiver):
    metadata = "http://169.254.169.254/latest/meta-data/"
    receiver.script(Reply(status=302, headers={"Location": metadata}))
    subscription_create(owner=user, url=receiver.url, event_types=["*"])
    publish_numbered(user, 1)

    deliveries_pump(idle_seconds=0)

    assert len(receiver.requests) == 1
    attempt = DeliveryAttempt.objects.get()
    assert (attempt.response_status, attempt.error_kind) == (302, "redirect")
    assert attempt.response_headers["Location"] == metadata
    assert Delivery.objects.get().status == Status.FAILED


class HugeBodyServer:
    """Answers 200 with a 100 MB body, written until the client hangs up; counts what it sent."""

    body_size = 100 * 1024 * 1024

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.sent = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"

    def _serve(self):
        connection, _ = self.listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                + f"Content-Length: {self.body_size}\r\n\r\n".encode()
            )
            chunk = b"x" * 65536
            try:
                while self.sent < self.body_size:
                    connection.sendall(chunk)
                    self.sent += len(chunk)
            except OSError:
                pass  # the client stopped reading and closed: what we want

    def stop(self):
        self.listener.close()
        self.thread.join(timeout=5)


def test_a_100_mb_answer_is_read_only_up_to_the_cap(user):
    server = HugeBodyServer()
    try:
        subscription_create(owner=user, url=server.url, event_types=["*"], timeout_seconds=5)
        publish_numbered(user, 1)

        deliveries_pump(idle_seconds=0)
    finally:
        server.stop()

    attempt = DeliveryAttempt.objects.get()
    assert attempt.response_status == 200
    assert attempt.response_body == "x" * 4096
    assert Delivery.objects.get().status == Status.SUCCEEDED
    assert server.sent < 20 * 1024 * 1024  # the socket closed long before 100 MB


def test_a_server_that_never_answers_times_out_and_is_retried(user):
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (backlog), never answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
        subscription = subscription_create(
            owner=user, url=url, event_types=["*"], timeout_seconds=1
        )
        publish_numbered(user, 1)
        started = timezone.now()

        deliveries_pump(idle_seconds=0)
    finally:
        silent.close()

    attempt = DeliveryAttempt.objects.get()
    assert attempt.error_kind == "timeout"
    assert 900 <= attempt.duration_ms < 3000
    delivery = Delivery.objects.get()
    assert delivery.status == Status.PENDING
    assert delivery.next_attempt_at > started
    assert Subscription.objects.get(pk=subscription.pk).consecutive_failures == 1
