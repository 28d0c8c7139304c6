"""Payload filters: one language, evaluated by PostgreSQL at fan-out and by Python elsewhere."""

import pytest
from django.db import connection

from subscriptions import filters
from subscriptions.models import Delivery, Subscription

pytestmark = pytest.mark.django_db

ORDER = {
    "id": "evt_1",
    "event_type": "order.created",
    "created_at": "2026-12-02T10:00:00Z",
    "data": {
        "status": "paid",
        "total": 120.5,
        "count": 3,
        "country": "DE",
        "vip": False,
        "coupon": None,
        "tags": ["new", "vip"],
        "lines": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}],
        "customer": {"email": "ann@example.com", "name": "Ännchen"},
    },
}

CASES = [
    ({"data.status": "paid"}, True),
    ({"data.status": "refunded"}, False),
    ({"data.status": "paid", "data.total": {"$gte": 100}}, True),
    ({"data.status": "paid", "data.total": {"$gte": 200}}, False),
    ({"data.total": {"$gt": 120, "$lt": 121}}, True),
    ({"data.total": {"$lte": 120.5}}, True),
    ({"data.count": 3.0}, True),
    ({"data.country": {"$in": ["DE", "FR"]}}, True),
    ({"data.country": {"$in": ["US"]}}, False),
    ({"data.country": {"$nin": ["US", "CA"]}}, True),
    ({"data.country": {"$nin": ["DE"]}}, False),
    ({"data.missing": {"$nin": ["x"]}}, True),
    ({"data.missing": "x"}, False),
    ({"data.missing": {"$exists": False}}, True),
    ({"data.coupon": {"$exists": True}}, True),  # present, though null
    ({"data.coupon": None}, True),
    ({"data.country": None}, False),
    ({"data.vip": False}, True),
    ({"data.vip": 0}, False),  # a boolean is not a number
    ({"data.count": True}, False),
    ({"data.status": {"$gt": 5}}, False),  # a string is not compared with a number
    ({"data.status": {"$nin": [5]}}, False),  # not comparable is unknown, also under $nin
    ({"data.status": {"$gt": "a"}}, True),  # strings compare by code point
    ({"data.customer.name": {"$gt": "Z"}}, True),
    ({"data.customer.email": "ann@example.com"}, True),
    ({"data.customer": "ann@example.com"}, False),  # an object compares with nothing
    ({"data.tags": "vip"}, True),  # an array matches when one element does
    ({"data.tags": {"$in": ["old", "new"]}}, True),
    ({"data.tags": {"$nin": ["vip"]}}, False),
    ({"data.lines.sku": "B-2"}, True),  # a path through an array looks at each element
    ({"data.lines.qty": {"$gt": 1}}, True),
    ({"data.lines.qty": {"$gt": 2}}, False),
    ({"event_type": "order.created"}, True),
    ({"id": {"$in": ["evt_1", "evt_2"]}}, True),
    ({"$or": [{"data.country": "FR"}, {"data.total": {"$gt": 100}}]}, True),
    ({"$or": [{"data.country": "FR"}, {"data.total": {"$gt": 1000}}]}, False),
    ({"$and": [{"data.status": "paid"}, {"$or": [{"data.vip": True}, {"data.count": 3}]}]}, True),
    ({"$or": [{"data.status": {"$gt": 5}}, {"data.count": 3}]}, True),
    ({"data.status": "paid", "$or": [{"data.country": "US"}]}, False),
]


@pytest.mark.parametrize(("spec", "expected"), CASES)
def test_the_python_evaluator_answers_each_case(spec, expected):
    assert filters.filter_problem(spec) is None
    assert filters.matches(spec, ORDER) is expected


@pytest.mark.skipif(connection.vendor != "postgresql", reason="jsonb_path_match is PostgreSQL's")
def test_postgresql_answers_every_case_as_python_does():
    import json

    with connection.cursor() as cursor:
        for spec, expected in CASES:
            cursor.execute(
                "SELECT jsonb_path_match(%s::jsonb, %s::jsonpath, '{}', true)",
                [json.dumps(ORDER), filters.to_jsonpath(spec)],
            )
            assert (cursor.fetchone()[0] is True) is expected, spec


@pytest.mark.parametrize(
    "spec",
    [
        [],
        "data.status",
        {"data.status": {"$regex": "p.*"}},
        {"$nor": [{"a": 1}]},
        {"$or": []},
        {"$or": {"a": 1}},
        {"data.status": {}},
        {"data..status": 1},
        {"data.$where": 1},
        {"data.tags": ["new"]},
        {"data.customer": {"$gt": {"a": 1}}},
        {"data.total": {"$gte": True}},
        {"data.country": {"$in": []}},
        {"data.country": {"$in": "DE"}},
        {"data.country": {"$in": [["DE"]]}},
        {"data.coupon": {"$exists": "yes"}},
        {"a": {"$or": [{"$or": [{"$or": [{"$or": [{"$or": [{"b": 1}]}]}]}]}]}},
        {"$or": [{"$or": [{"$or": [{"$or": [{"$or": [{"b": 1}]}]}]}]}]},
        {".".join(["x"] * 11): 1},
        {"data.country": {"$in": list(range(101))}},
    ],
)
def test_a_filter_that_is_not_the_language_answers_422_naming_the_field(api, spec):
    response = api.post(
        "/api/webhooks",
        {"url": "https://example.com/hook", "event_types": ["*"], "filter": spec},
        format="json",
    )

    assert response.status_code == 422
    assert "filter" in response.json()["errors"]
    assert not Subscription.objects.exists()


def test_fan_out_creates_deliveries_only_for_events_the_filter_matches(api, user):
    created = api.post(
        "/api/webhooks",
        {
            "url": "https://example.com/big-paid-orders",
            "event_types": ["task.*"],
            "filter": {"data.status": "paid", "data.total": {"$gte": 100}},
        },
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["filter"] == {"data.status": "paid", "data.total": {"$gte": 100}}
    unfiltered = api.post(
        "/api/webhooks",
        {"url": "https://example.com/all", "event_types": ["task.*"]},
        format="json",
    ).json()

    def publish(data):
        answer = api.post(
            "/api/events", {"event_type": "task.completed", "data": data}, format="json"
        )
        return answer.json()["deliveries"]

    assert publish({"status": "paid", "total": 150}) == 2
    assert publish({"status": "paid", "total": 50}) == 1
    assert publish({"status": "open", "total": 150}) == 1
    assert publish({"total": "150"}) == 1
    filtered_pk = created.json()["id"]
    assert Delivery.objects.filter(subscription_id=filtered_pk).count() == 1
    assert Delivery.objects.filter(subscription_id=unfiltered["id"]).count() == 4


def test_a_filter_is_changed_and_removed_with_patch(api):
    pk = api.post(
        "/api/webhooks",
        {"url": "https://example.com/h", "event_types": ["*"], "filter": {"data.a": 1}},
        format="json",
    ).json()["id"]

    api.patch(f"/api/webhooks/{pk}", {"filter": {"data.a": 2}}, format="json")
    assert Subscription.objects.get().filter_path == filters.to_jsonpath({"data.a": 2})

    api.patch(f"/api/webhooks/{pk}", {"filter": None}, format="json")
    assert (Subscription.objects.get().filter, Subscription.objects.get().filter_path) == (None, "")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="one statement on PostgreSQL")
def test_publishing_to_filtered_subscriptions_is_still_one_statement(
    user, django_assert_num_queries
):
    from subscriptions.services import subscription_create
    from webhooks.services import event_publish

    for number in range(50):
        subscription_create(
            owner=user,
            url="https://example.com/h",
            event_types=["*"],
            filter={"data.n": {"$gte": number}},
        )

    with django_assert_num_queries(1):
        result = event_publish(owner=user, event_type="task.completed", data={"n": 9})

    assert result.deliveries == 10
