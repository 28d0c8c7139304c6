"""recover over a window, through the API, a real pump and a real receiver."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from subscriptions.delivery.pump import deliveries_pump
from subscriptions.models import Delivery
from subscriptions.tests.receiver import Reply
from webhooks.models import Event
from webhooks.services import event_publish

pytestmark = pytest.mark.django_db

Status = Delivery.Status


def create(api, receiver, **overrides) -> int:
    """An ordered subscription (max_in_flight 1): what it is sent arrives in queue order."""
    body = {
        "url": receiver.url,
        "event_types": ["task.*"],
        "retry_count": 0,
        "max_in_flight": 1,
        **overrides,
    }
    response = api.post("/api/webhooks", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def ago(**delta) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


def recover(api, pk: int, **body):
    return api.post(f"/api/webhooks/{pk}/recover", body, format="json")


def sent_event_ids(receiver, start: int = 0) -> list[str]:
    return [json.loads(request.body)["id"] for request in receiver.requests[start:]]


def publish(owner, event_type="task.created", data=None, **options) -> Event:
    return event_publish(owner=owner, event_type=event_type, data=data or {}, **options).event


def test_recover_until_requeues_only_failed_deliveries_of_the_window(api, user, receiver):
    pk = create(api, receiver)
    receiver.script(*[Reply(status=400)] * 3)
    early, inside, at_until, succeeded = (publish(user) for _ in range(4))
    deliveries_pump(idle_seconds=0)
    now = timezone.now()
    for event, age in ((early, 3), (inside, 2), (at_until, 1), (succeeded, 2)):
        Delivery.objects.filter(event=event).update(created_at=now - timedelta(hours=age))
    assert Delivery.objects.get(event=succeeded).status == Status.SUCCEEDED
    until = (now - timedelta(hours=1)).isoformat()
    before = len(receiver.requests)

    response = recover(api, pk, since=ago(hours=2, minutes=30), until=until)

    assert response.status_code == 202
    assert response.json() == {"requeued": 1}
    assert deliveries_pump(idle_seconds=0) == 1
    assert sent_event_ids(receiver, before) == [inside.public_id]
    assert recover(api, pk, since=ago(hours=2, minutes=30), until=until).json() == {"requeued": 0}


def test_recover_twice_requeues_nothing_new(api, user, receiver):
    pk = create(api, receiver)
    publish(user)
    Delivery.objects.update(status=Status.FAILED, next_attempt_at=None)

    assert recover(api, pk, since=ago(hours=1)).json() == {"requeued": 1}
    assert recover(api, pk, since=ago(hours=1)).json() == {"requeued": 0}
    assert Delivery.objects.get().status == Status.PENDING


def test_recover_accepts_a_since_older_than_the_replay_window(api, receiver):
    pk = create(api, receiver)

    assert recover(api, pk, since=ago(days=90)).status_code == 202


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2024-02-30T00:00:00Z"}, "since"),
        ({"since": 1700000000}, "since"),
        ({"since": "2024-05-01T00:00:00Z", "until": "soon"}, "until"),
        ({"since": "2024-05-01T00:00:00Z", "until": "2024-05-01T00:00:00Z"}, "until"),
        ({"since": "2024-05-01T00:00:00Z", "until": "2024-04-30T23:59:59Z"}, "until"),
    ],
)
def test_a_bad_window_answers_422_naming_the_field(api, receiver, body, field):
    pk = create(api, receiver)

    response = recover(api, pk, **body)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["errors"]) == [field]


def test_another_users_subscription_answers_404(api, other_api, user, receiver):
    pk = create(api, receiver)
    publish(user)
    Delivery.objects.update(status=Status.FAILED, next_attempt_at=None)

    assert recover(other_api, pk, since=ago(hours=1), until=ago(seconds=0)).status_code == 404
    assert list(Delivery.objects.values_list("status", flat=True)) == [Status.FAILED]


def test_the_schema_documents_the_window(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    recover_op = schema["paths"]["/api/webhooks/{id}/recover"]["post"]

    components = schema["components"]["schemas"]
    assert set(components["Recover"]["properties"]) == {"since", "until"}
    assert components["Recover"]["required"] == ["since"]
    assert "202" in recover_op["responses"]
    assert "[since, until)" in recover_op["description"]
    assert components["Recovered"]["properties"]["requeued"]["type"] == "integer"
