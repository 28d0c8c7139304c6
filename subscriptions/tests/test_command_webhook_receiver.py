"""`manage.py webhook_receiver`, run as a real process and sent real deliveries by the pump."""

import json
import sys
import time

import pytest
import requests

from conftest import _await_start, child_env, free_port, start_process, wait_until
from subscriptions.delivery.pump import deliveries_pump
from subscriptions.models import Delivery
from subscriptions.services import subscription_create
from webhooks.services import event_publish
from webhooks.signing import secret_generate, standard_signature

pytestmark = [pytest.mark.server, pytest.mark.django_db]


@pytest.fixture
def start_receiver(tmp_path):
    """Start the command with a secret (on a free port by default); returns its handle and
    URL once it listens. Every one started is stopped at teardown."""
    started = []

    def start(secret: str, port: int | None = None):
        port = port or free_port()
        handle = start_process(
            [sys.executable, "manage.py", "webhook_receiver", "--secret", secret,
             "--port", str(port)],
            child_env(),
            tmp_path / f"receiver-{len(started) + 1}.log",
        )  # fmt: skip
        started.append(handle)
        _await_start(handle, lambda: "Listening on" in handle.log() or handle.process.poll())
        assert handle.process.poll() is None, handle.log()
        return handle, f"http://127.0.0.1:{port}/"

    yield start
    for handle in started:
        handle.stop()


def test_a_delivery_signed_with_its_secret_prints_verified_and_succeeds(user, start_receiver):
    # The README's order: subscribe the URL, then start the receiver with the new secret.
    port = free_port()
    subscription = subscription_create(
        owner=user, url=f"http://127.0.0.1:{port}/", event_types=["task.*"]
    )
    handle, _ = start_receiver(subscription.secret, port=port)
    event = event_publish(owner=user, event_type="task.created", data={"task_id": "t1"}).event

    assert deliveries_pump(idle_seconds=0) == 1

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == (Delivery.Status.SUCCEEDED, 200)
    line = wait_until(lambda: event.public_id in handle.log() and handle.log())
    assert f"{event.public_id} task.created: signature verified" in line


def test_a_tampered_body_prints_not_verified_and_answers_401(start_receiver):
    secret = secret_generate()
    handle, url = start_receiver(secret)
    now = int(time.time())
    signed = json.dumps({"id": "evt_1", "event_type": "task.created", "data": {"n": 1}}).encode()
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(now),
        "webhook-signature": standard_signature(secret, "evt_1", now, signed),
    }

    tampered = requests.post(url, data=signed.replace(b"1}", b"2}"), headers=headers, timeout=5)
    genuine = requests.post(url, data=signed, headers=headers, timeout=5)

    assert (tampered.status_code, genuine.status_code) == (401, 200)
    log = wait_until(lambda: handle.log().count("evt_1 task.created") == 2 and handle.log())
    assert "evt_1 task.created: signature NOT verified (no signature matches)" in log
    assert "evt_1 task.created: signature verified" in log


@pytest.mark.parametrize(
    ("secret", "said"),
    [
        ("whsec_not base64!", "--secret is not a whsec_<base64> secret"),
        ("whsec_…", "--secret is not a whsec_<base64> secret"),  # the README's placeholder
        ("", "--secret is empty"),  # `--secret "$SECRET"` with SECRET unset
    ],
)
def test_a_secret_that_cannot_sign_is_refused(secret, said, tmp_path):
    handle = start_process(
        [sys.executable, "manage.py", "webhook_receiver", "--secret", secret],
        child_env(),
        tmp_path / "receiver.log",
    )
    try:
        assert handle.process.wait(timeout=30) != 0
    finally:
        handle.stop()
    assert said in handle.log()
