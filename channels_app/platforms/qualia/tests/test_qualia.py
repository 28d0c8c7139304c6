"""Qualia's `POST /webhook/activity`, with real Basic-auth requests built from fixtures."""

import json
import threading

import pytest
import requests
from django.contrib.auth.hashers import make_password

from channels_app.models import ChannelAccount, InboundEvent
from channels_app.platforms.qualia.models import Activity
from channels_app.platforms.qualia.tests.case import PASSWORD, basic, qualia
from channels_app.processing import inbound_event_process
from conftest import child_env, start_web_server
from subscriptions.models import Delivery
from subscriptions.services import subscription_create
from webhooks.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(user):
    return qualia.account_create(user)


def test_a_valid_activity_answers_the_exact_contract_and_is_stored_once(client, account):
    response = qualia.post(client, qualia.fixture("message"))

    assert response.status_code == 200
    body = response.json()
    assert list(body) == [
        "status",
        "message",
        "order_id",
        "activity_type",
        "request_id",
        "response_time_ms",
    ]
    assert body["status"] == "success"
    assert body["message"] == "Activity message received and processed"
    assert (body["order_id"], body["activity_type"]) == ("bK8bg5tajNkDpDk25", "message")
    assert body["request_id"] == response["X-Request-ID"]
    assert isinstance(body["response_time_ms"], float)
    event = InboundEvent.objects.get()
    assert bytes(event.body) == qualia.fixture("message")
    assert event.status == InboundEvent.Status.RECEIVED
    assert "Authorization" not in event.headers


def test_bad_credentials_are_401_with_a_basic_challenge_and_store_nothing(client, account):
    for auth in [basic("acme", "wrong"), basic("nobody", PASSWORD), "Bearer x", "Basic !!"]:
        response = qualia.post(client, qualia.fixture("message"), auth=auth)
        assert response.status_code == 401, auth
        assert response["WWW-Authenticate"].startswith("Basic")
    assert InboundEvent.objects.count() == 0


def test_invalid_json_is_400(client, account):
    response = qualia.post(client, b"{not json")
    assert response.status_code == 400
    assert InboundEvent.objects.count() == 0


def test_validation_problems_are_422_one_entry_each_in_the_seed_shape(client, account):
    body = json.dumps({"description": "x", "type": "order_shipped", "order_id": ""}).encode()
    response = qualia.post(client, body)

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["body", "type"], "msg": "value is not a valid enumeration member",
             "type": "type_error.enum"},
            {"loc": ["body", "order_id"], "msg": "ensure this value has at least 1 characters",
             "type": "value_error.any_str.min_length"},
        ]
    }  # fmt: skip


def test_a_message_activity_needs_its_message_id(client, account):
    body = json.dumps({"description": "x", "type": "message", "order_id": "o1"}).encode()
    response = qualia.post(client, body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "message_id"]


def test_a_duplicate_answers_200_and_is_not_stored_again(client, account):
    assert qualia.post(client, qualia.fixture("order_request")).status_code == 200
    assert qualia.post(client, qualia.fixture("order_request")).status_code == 200
    assert InboundEvent.objects.count() == 1


def test_an_oversize_body_is_413(client, account, settings):
    settings.MAX_PAYLOAD_SIZE_MB = 1
    response = qualia.post(client, b'{"description": "' + b"x" * (1024 * 1024) + b'"}')
    assert response.status_code == 413
    assert InboundEvent.objects.count() == 0


def test_past_the_rate_limit_the_answer_is_429_with_retry_after(client, account, settings):
    from django.core.cache import cache

    cache.clear()
    settings.INBOUND_RATE_LIMIT_PER_MINUTE = 2
    codes = [qualia.post(client, qualia.fixture("order_request")).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert 0 < int(qualia.post(client, qualia.fixture("message"))["Retry-After"]) <= 60


def test_processing_stores_the_activity_and_publishes_to_the_owner(client, user, account):
    subscription_create(owner=user, url="https://example.com/h", event_types=["qualia.activity.*"])
    qualia.post(client, qualia.fixture("message"))

    inbound_event_process(event=InboundEvent.objects.get())

    activity = Activity.objects.get()
    assert (activity.order_id, activity.activity_type, activity.message_id) == (
        "bK8bg5tajNkDpDk25",
        "message",
        "LEPAjMB43myH8aGcP",
    )
    assert InboundEvent.objects.get().status == InboundEvent.Status.PROCESSED
    event = Event.objects.get()
    assert (event.event_type, event.source) == ("qualia.activity.message", "qualia")
    assert Delivery.objects.filter(event=event).count() == 1


def test_a_failing_handler_is_recorded_then_reprocessed_from_the_admin(
    admin_client, client, account, monkeypatch
):
    from channels_app.platforms.qualia import handlers

    qualia.post(client, qualia.fixture("order_request"))
    event = InboundEvent.objects.get()

    def broken(event, payload):
        raise RuntimeError("projection exploded")

    monkeypatch.setattr(handlers, "activity_process", broken)
    inbound_event_process(event=event)
    event.refresh_from_db()
    assert event.status == InboundEvent.Status.FAILED
    assert "projection exploded" in event.error
    assert "Traceback" in event.traceback

    monkeypatch.undo()
    admin_client.post(
        "/admin/channels_app/inboundevent/",
        {"action": "reprocess", "_selected_action": [event.pk]},
    )
    event.refresh_from_db()
    assert event.status == InboundEvent.Status.RECEIVED
    inbound_event_process(event=event)
    event.refresh_from_db()
    assert event.status == InboundEvent.Status.PROCESSED
    assert event.attempts == 2


def test_environment_credentials_act_as_a_default_account(client, settings, django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.com", "x")
    settings.WEBHOOK_USERNAME, settings.WEBHOOK_PASSWORD = "envuser", "env-password"

    assert (
        qualia.post(
            client, qualia.fixture("message"), auth=basic("envuser", "env-password")
        ).status_code
        == 200
    )
    assert (
        qualia.post(client, qualia.fixture("message"), auth=basic("envuser", "nope")).status_code
        == 401
    )
    assert ChannelAccount.objects.get().owner.username == "boss"


def test_inbound_events_api_lists_the_owners_events_and_reprocesses(
    api, other_api, client, account
):
    qualia.post(client, qualia.fixture("order_request"))
    InboundEvent.objects.update(status=InboundEvent.Status.FAILED)

    listed = api.get("/api/inbound-events", {"status": "failed"}).json()["results"]
    assert [(e["platform"], e["topic"]) for e in listed] == [("qualia", "order_request")]
    assert other_api.get("/api/inbound-events").json()["results"] == []
    assert other_api.post(
        "/api/inbound-events/reprocess", {"status": "failed"}, format="json"
    ).json() == {"requeued": 0}
    assert api.post(
        "/api/inbound-events/reprocess", {"status": "failed"}, format="json"
    ).json() == {"requeued": 1}
    assert api.post("/api/inbound-events/reprocess", {}, format="json").status_code == 422


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_through_the_real_server_store_one_row(live_app, user):
    ChannelAccount.objects.create(
        owner=user, platform="qualia", name="Acme", external_id="acme",
        password_hash=make_password(PASSWORD),
    )  # fmt: skip
    results = []

    def send():
        results.append(
            requests.post(
                f"{live_app}/webhook/activity", data=qualia.fixture("message"),
                headers={"Authorization": basic("acme", PASSWORD),
                         "Content-Type": "application/json"},
                timeout=10,
            ).status_code
        )  # fmt: skip

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 4
    assert InboundEvent.objects.count() == 1


@pytest.mark.server
def test_a_database_outage_answers_503_not_200(tmp_path):
    handle, base_url = start_web_server(
        child_env(DATABASE_URL="postgres://postgres@127.0.0.1:9/nowhere"), tmp_path / "web.log"
    )
    try:
        response = requests.post(
            f"{base_url}/webhook/activity", data=qualia.fixture("message"),
            headers={"Authorization": basic("acme", PASSWORD), "Content-Type": "application/json"},
            timeout=10,
        )  # fmt: skip
    finally:
        handle.stop()
    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"


def test_a_failure_is_retried_from_its_row_with_backoff_then_left_dead(
    client, account, settings, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    from channels_app.platforms.qualia import handlers
    from channels_app.tasks import inbound_event_process_task

    settings.INBOUND_MAX_RETRIES = 2
    qualia.post(client, qualia.fixture("order_request"))
    event = InboundEvent.objects.get()

    def broken(event, payload):
        raise RuntimeError("still broken")

    monkeypatch.setattr(handlers, "activity_process", broken)
    delays = []
    for attempt in (1, 2, 3):
        before = timezone.now()
        inbound_event_process_task.apply(args=[event.pk])
        inbound_event_process_task.apply(args=[event.pk])  # not due yet: nothing runs
        event.refresh_from_db()
        assert event.attempts == attempt
        if event.next_attempt_at:
            delays.append((event.next_attempt_at - before).total_seconds())
            InboundEvent.objects.filter(pk=event.pk).update(  # the backoff passes
                next_attempt_at=timezone.now() - timedelta(seconds=1)
            )

    assert event.status == InboundEvent.Status.DEAD  # the first try and two retries
    assert event.next_attempt_at is None
    assert "still broken" in event.error
    assert 1.5 < delays[0] < 2.5  # 2 s, ±20 %
    assert 3 < delays[1] < 5  # then 4 s


@pytest.mark.parametrize(
    ("fixture", "event_type", "data"),
    [
        ("message", "qualia.activity.message", {"message_id": "LEPAjMB43myH8aGcP"}),
        ("order_request", "qualia.activity.order_request", {"order_id": "bK8bg5tajNkDpDk25"}),
    ],
)
def test_every_fixture_projects_and_publishes(client, account, fixture, event_type, data):
    inbound = qualia.check_webhook(client, fixture, event_type=event_type, data=data)
    assert Activity.objects.get(inbound_event=inbound).activity_type == fixture
