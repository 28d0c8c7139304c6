import pytest

from subscriptions.models import Delivery
from webhooks.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribed(api):
    api.post(
        "/api/webhooks", {"url": "https://example.com/h", "event_types": ["task.*"]}, format="json"
    )


def test_publish_answers_202_with_the_event_id_and_delivery_count(api, subscribed):
    response = api.post(
        "/api/events", {"event_type": "task.created", "data": {"task_id": "t"}}, format="json"
    )
    assert response.status_code == 202
    body = response.json()
    assert body["id"].startswith("evt_")
    assert body["deliveries"] == 1
    assert body["duplicate"] is False


def test_an_unknown_event_type_is_a_422(api):
    response = api.post("/api/events", {"event_type": "task.exploded", "data": {}}, format="json")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["event_type"]
    assert Event.objects.count() == 0


def test_data_with_a_nul_character_and_an_impossible_since_are_422_not_500(api):
    published = api.post(
        "/api/events", {"event_type": "task.created", "data": {"title": "a\u0000b"}}, format="json"
    )
    listed = api.get("/api/events", {"since": "2024-02-30T00:00:00Z"})

    assert published.status_code == 422
    assert "data" in published.json()["errors"]
    assert listed.status_code == 422
    assert "since" in listed.json()["errors"]


def test_the_same_idempotency_key_returns_the_first_event_and_creates_nothing(api, subscribed):
    body = {"event_type": "task.created", "data": {"task_id": "t"}, "idempotency_key": "k-1"}
    first = api.post("/api/events", body, format="json").json()
    second = api.post("/api/events", body, format="json").json()
    assert second["id"] == first["id"]
    assert second["duplicate"] is True
    assert Event.objects.count() == 1
    assert Delivery.objects.count() == 1


def test_idempotency_keys_are_per_owner(api, other_api):
    body = {"event_type": "task.created", "data": {}, "idempotency_key": "shared"}
    assert api.post("/api/events", body, format="json").json()["duplicate"] is False
    assert other_api.post("/api/events", body, format="json").json()["duplicate"] is False


def test_events_list_and_detail_with_deliveries_are_the_owners_only(api, other_api, subscribed):
    event_id = api.post(
        "/api/events", {"event_type": "task.created", "data": {}}, format="json"
    ).json()["id"]

    assert [e["id"] for e in api.get("/api/events").json()["results"]] == [event_id]
    detail = api.get(f"/api/events/{event_id}").json()
    assert [d["status"] for d in detail["deliveries"]] == ["pending"]
    assert other_api.get(f"/api/events/{event_id}").status_code == 404
    assert other_api.get("/api/events").json()["results"] == []
