import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from standardwebhooks import Webhook

from subscriptions.models import Delivery, Subscription
from webhooks.services import event_publish

pytestmark = pytest.mark.django_db


def create(api, **overrides):
    body = {
        "url": "https://example.com/webhook",
        "event_types": ["email.received", "task.completed"],
        "description": "My webhook",
        "retry_count": 3,
        "timeout_seconds": 10,
        **overrides,
    }
    return api.post("/api/webhooks", body, format="json")


def test_create_returns_the_subscription_and_its_secret_once(api):
    response = create(api)

    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["event_types"] == ["email.received", "task.completed"]
    assert body["retry_count"] == 3
    assert body["is_active"] is True
    fetched = api.get(f"/api/webhooks/{body['id']}").json()
    assert "secret" not in fetched
    assert all("secret" not in item for item in api.get("/api/webhooks").json()["results"])


def test_defaults_are_17_retries_and_10_seconds(api):
    body = api.post(
        "/api/webhooks", {"url": "https://example.com/h", "event_types": ["*"]}, format="json"
    ).json()
    assert (body["retry_count"], body["timeout_seconds"]) == (17, 10)
    assert (body["max_in_flight"], body["rate_limit_per_second"]) == (10, None)


def test_endpoint_limits_are_set_on_create_and_patch(api):
    pk = create(api, max_in_flight=1, rate_limit_per_second=50).json()["id"]
    assert Subscription.objects.values_list("max_in_flight", "rate_limit_per_second").get() == (
        1,
        50,
    )

    body = api.patch(
        f"/api/webhooks/{pk}", {"max_in_flight": 25, "rate_limit_per_second": None}, format="json"
    ).json()

    assert (body["max_in_flight"], body["rate_limit_per_second"]) == (25, None)
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    fields = schema["components"]["schemas"]["Subscription"]["properties"]
    assert fields["max_in_flight"]["maximum"] == 1000
    assert fields["rate_limit_per_second"]["nullable"] is True


def test_the_secret_is_encrypted_at_rest(api):
    secret = create(api).json()["secret"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM subscriptions_subscription")
        [(stored,)] = cursor.fetchall()
    assert secret not in stored
    assert secret.removeprefix("whsec_") not in stored
    assert Subscription.objects.get().secret == secret


def test_key_rotation_reencrypts_every_secret(api, settings):
    from cryptography.fernet import Fernet

    secret = create(api).json()["secret"]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]

    call_command("reencrypt_fields")

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM subscriptions_subscription")
        [(stored,)] = cursor.fetchall()
    assert Fernet(new_key.encode()).decrypt(stored.encode()).decode() == secret
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert Subscription.objects.get().secret == secret


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"event_types": ["task.finished"]}, "event_types"),
        ({"event_types": []}, "event_types"),
        ({"retry_count": 21}, "retry_count"),
        ({"retry_count": -1}, "retry_count"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"timeout_seconds": 61}, "timeout_seconds"),
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"max_in_flight": 0}, "max_in_flight"),
        ({"max_in_flight": 1001}, "max_in_flight"),
        ({"max_in_flight": "many"}, "max_in_flight"),
        ({"rate_limit_per_second": 0}, "rate_limit_per_second"),
        ({"rate_limit_per_second": 10001}, "rate_limit_per_second"),
    ],
)
def test_invalid_input_is_a_422_naming_the_field(api, overrides, field):
    response = create(api, **overrides)
    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]


def test_wildcards_are_accepted(api):
    assert create(api, event_types=["*", "task.*", "calendar.event.*"]).status_code == 201


def test_invalid_json_is_a_400(api):
    response = api.post("/api/webhooks", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/hook",
        "https://localhost/hook",
        "https://224.0.0.1/hook",
        "https://example.com:99999/hook",
    ],
)
def test_production_refuses_http_and_private_addresses(api, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    response = create(api, url=url)
    assert response.status_code == 422
    assert "url" in response.json()["errors"]


def test_patch_changes_fields_and_validates(api):
    pk = create(api).json()["id"]
    response = api.patch(
        f"/api/webhooks/{pk}", {"description": "new", "retry_count": 5}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["description"], response.json()["retry_count"]) == ("new", 5)
    assert (
        api.patch(f"/api/webhooks/{pk}", {"timeout_seconds": 99}, format="json").status_code == 422
    )


def test_delete_cancels_pending_deliveries_and_keeps_history(api, user):
    pk = create(api, event_types=["*"]).json()["id"]
    event_publish(owner=user, event_type="task.created", data={"task_id": "t"})

    assert api.delete(f"/api/webhooks/{pk}").status_code == 204

    assert api.get(f"/api/webhooks/{pk}").status_code == 404
    assert Delivery.objects.get().status == Delivery.Status.CANCELLED
    assert Subscription.objects.filter(pk=pk, deleted_at__isnull=False).exists()
    assert event_publish(owner=user, event_type="task.created", data={}).deliveries == 0


def test_event_types_lists_the_catalog_with_examples(api):
    types = {item["name"]: item for item in api.get("/api/webhooks/event-types").json()}
    assert (
        len(
            [
                name
                for name in types
                if name.split(".")[0]
                in {"email", "calendar", "task", "indexing", "user", "export", "sync"}
            ]
        )
        == 17
    )
    assert types["task.completed"]["example"]["task_id"]
    assert types["task.completed"]["description"]


def test_another_users_subscription_answers_404_everywhere(api, other_api):
    pk = create(api).json()["id"]
    for method, path in [
        ("get", f"/api/webhooks/{pk}"),
        ("patch", f"/api/webhooks/{pk}"),
        ("delete", f"/api/webhooks/{pk}"),
        ("post", f"/api/webhooks/{pk}/test"),
        ("get", f"/api/webhooks/{pk}/deliveries"),
        ("get", f"/api/webhooks/{pk}/stats"),
        ("post", f"/api/webhooks/{pk}/rotate-secret"),
        ("post", f"/api/webhooks/{pk}/recover"),
    ]:
        assert getattr(other_api, method)(path, {}, format="json").status_code == 404, path
    assert other_api.get("/api/webhooks").json()["results"] == []
    assert Subscription.objects.get(pk=pk).deleted_at is None


def test_another_users_delivery_answers_404(api, other_api, user, other_user):
    mine = create(api, event_types=["*"]).json()["id"]
    theirs = create(other_api, event_types=["*"]).json()["id"]
    event_publish(owner=user, event_type="task.created", data={})
    delivery = Delivery.objects.get()
    assert other_api.get(f"/api/webhooks/{theirs}/deliveries/{delivery.pk}").status_code == 404
    assert (
        other_api.post(f"/api/webhooks/{theirs}/deliveries/{delivery.pk}/retry").status_code == 404
    )
    assert api.get(f"/api/webhooks/{mine}/deliveries/{delivery.pk}").status_code == 200


def test_test_endpoint_sends_a_signed_test_event_and_records_it(api, receiver):
    created = create(api, url=receiver.url).json()

    response = api.post(f"/api/webhooks/{created['id']}/test")

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["status_code"] == 200
    assert body["error"] is None
    assert body["response_time_ms"] >= 0
    [request] = receiver.requests
    assert Webhook(created["secret"]).verify(request.body, request.headers)["event_type"] == (
        "webhook.test"
    )
    deliveries = api.get(f"/api/webhooks/{created['id']}/deliveries").json()["results"]
    assert [(d["event_type"], d["status"]) for d in deliveries] == [("webhook.test", "succeeded")]


def test_test_endpoint_reports_a_failure(api, receiver):
    from subscriptions.tests.receiver import Reply

    receiver.script(Reply(status=500))
    pk = create(api, url=receiver.url).json()["id"]
    body = api.post(f"/api/webhooks/{pk}/test").json()
    assert (body["success"], body["status_code"], body["error"]) == (False, 500, "HTTP 500")


def test_delivery_history_filters_and_detail_with_attempts(api, user, receiver):
    from subscriptions.delivery.pump import deliveries_pump

    pk = create(api, url=receiver.url, event_types=["*"]).json()["id"]
    event_publish(owner=user, event_type="task.created", data={"task_id": "a"})
    event_publish(owner=user, event_type="email.sent", data={"email_id": "b"})
    deliveries_pump(idle_seconds=0)

    listing = api.get(f"/api/webhooks/{pk}/deliveries", {"event_type": "email.sent"}).json()
    assert [d["event_type"] for d in listing["results"]] == ["email.sent"]
    assert api.get(f"/api/webhooks/{pk}/deliveries", {"status": "pending"}).json()["results"] == []
    assert api.get(f"/api/webhooks/{pk}/deliveries", {"status": "nope"}).status_code == 422
    assert api.get(f"/api/webhooks/{pk}/deliveries", {"since": "x"}).status_code == 422
    detail = api.get(f"/api/webhooks/{pk}/deliveries/{listing['results'][0]['id']}").json()
    assert detail["payload"] == {"email_id": "b"}
    assert [a["response_status"] for a in detail["attempts"]] == [200]


def test_deliveries_are_cursor_paginated(api, user):
    pk = create(api, event_types=["*"]).json()["id"]
    for number in range(3):
        event_publish(owner=user, event_type="task.created", data={"n": number})
    first = api.get(f"/api/webhooks/{pk}/deliveries", {"limit": 2}).json()
    second = api.get(first["next"]).json()
    assert len(first["results"]) == 2
    assert len(second["results"]) == 1


def test_retry_and_recover_requeue_failed_deliveries(api, user):
    pk = create(api, event_types=["*"]).json()["id"]
    event_publish(owner=user, event_type="task.created", data={})
    event_publish(owner=user, event_type="task.updated", data={})
    Delivery.objects.update(status=Delivery.Status.FAILED, next_attempt_at=None)
    first = Delivery.objects.order_by("pk").first()

    retried = api.post(f"/api/webhooks/{pk}/deliveries/{first.pk}/retry")
    assert retried.status_code == 202
    assert retried.json()["status"] == "pending"

    recovered = api.post(
        f"/api/webhooks/{pk}/recover",
        {"since": (timezone.now() - timezone.timedelta(hours=1)).isoformat()},
        format="json",
    )
    assert recovered.json() == {"requeued": 1}
    assert set(Delivery.objects.values_list("status", flat=True)) == {"pending"}
    assert api.post(f"/api/webhooks/{pk}/recover", {}, format="json").status_code == 422


def test_rotate_secret_shows_the_new_secret_once(api):
    created = create(api).json()
    rotated = api.post(f"/api/webhooks/{created['id']}/rotate-secret").json()
    subscription = Subscription.objects.get()
    assert rotated["secret"] == subscription.secret != created["secret"]
    assert subscription.previous_secret == created["secret"]


def test_stats_summarise_the_last_24_hours(api, user, receiver):
    from subscriptions.delivery.pump import deliveries_pump
    from subscriptions.tests.receiver import Reply

    pk = create(api, url=receiver.url, event_types=["*"]).json()["id"]
    receiver.script(Reply(status=200), Reply(status=400), Reply(status=500))
    for number in range(4):
        event_publish(owner=user, event_type="task.created", data={"n": number})
    Subscription.objects.filter(pk=pk).update()
    deliveries_pump(idle_seconds=0)

    stats = api.get(f"/api/webhooks/{pk}/stats").json()
    assert (stats["total"], stats["succeeded"], stats["failed"], stats["pending_retries"]) == (
        4,
        2,
        1,
        1,
    )
    assert stats["success_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert stats["latency_p50_ms"] is not None
    assert stats["latency_p95_ms"] >= stats["latency_p50_ms"]
