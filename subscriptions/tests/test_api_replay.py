"""recover over a window and replay-missing, through the API, a real pump and a real receiver."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from subscriptions import services
from subscriptions.delivery import wire
from subscriptions.delivery.pump import deliveries_pump
from subscriptions.models import Delivery, Subscription
from subscriptions.tests.receiver import Reply
from webhooks.ids import new_id
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


def set_active(api, pk: int, active: bool) -> None:
    response = api.patch(f"/api/webhooks/{pk}", {"is_active": active}, format="json")
    assert response.status_code == 200, response.json()


def ago(**delta) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


def replay(api, pk: int, **body):
    return api.post(f"/api/webhooks/{pk}/replay-missing", body, format="json")


def recover(api, pk: int, **body):
    return api.post(f"/api/webhooks/{pk}/recover", body, format="json")


def sent_event_ids(receiver, start: int = 0) -> list[str]:
    return [json.loads(request.body)["id"] for request in receiver.requests[start:]]


def publish(owner, event_type="task.created", data=None, **options) -> Event:
    return event_publish(owner=owner, event_type=event_type, data=data or {}, **options).event


def disabled_subscription(user, receiver, **options) -> Subscription:
    """A subscription that has existed for a day and is disabled now: it misses everything."""
    subscription = services.subscription_create(
        owner=user, url=receiver.url, is_active=False, **{"event_types": ["task.*"], **options}
    )
    subscription.created_at = timezone.now() - timedelta(days=1)
    subscription.save(update_fields=["created_at"])
    return subscription


def replay_last_hour(subscription) -> int:
    return services.subscription_replay_missing(
        subscription=subscription, since=timezone.now() - timedelta(hours=1)
    )


def replayed_event_ids() -> list[int]:
    return list(Delivery.objects.order_by("pk").values_list("event_id", flat=True))


def test_replay_missing_sends_exactly_what_was_published_while_it_was_disabled(
    api, user, other_user, receiver
):
    pk = create(api, receiver)
    publish(user)
    deliveries_pump(idle_seconds=0)
    set_active(api, pk, False)
    missed = [publish(user, "task.updated"), publish(user, "task.completed")]
    publish(user, "email.received")  # not one of its types
    publish(other_user, "task.created")  # not its owner's
    set_active(api, pk, True)
    publish(user, "task.deleted")  # fanned out as usual: it has this one
    deliveries_pump(idle_seconds=0)
    before = len(receiver.requests)

    response = replay(api, pk, since=ago(hours=1))

    assert response.status_code == 202
    assert response.json() == {"queued": 2}
    assert deliveries_pump(idle_seconds=0) == 2
    assert sent_event_ids(receiver, before) == [event.public_id for event in missed]


def test_replay_missing_twice_queues_nothing_new(api, user, receiver):
    pk = create(api, receiver)
    set_active(api, pk, False)
    publish(user)
    set_active(api, pk, True)
    assert replay(api, pk, since=ago(hours=1)).json() == {"queued": 1}
    deliveries_pump(idle_seconds=0)

    again = replay(api, pk, since=ago(hours=1))

    assert again.json() == {"queued": 0}
    assert deliveries_pump(idle_seconds=0) == 0
    assert len(receiver.requests) == 1


def test_replay_missing_skips_events_from_before_the_subscription_existed(api, user, receiver):
    publish(user)
    pk = create(api, receiver)

    assert replay(api, pk, since=ago(hours=1)).json() == {"queued": 0}


def test_replay_missing_respects_the_window(api, user, receiver):
    pk = create(api, receiver)
    set_active(api, pk, False)
    early, middle, late = publish(user), publish(user), publish(user)
    now = timezone.now()
    for event, age in ((early, 3), (middle, 2), (late, 1)):
        Event.objects.filter(pk=event.pk).update(created_at=now - timedelta(hours=age))
    Subscription.objects.filter(pk=pk).update(created_at=now - timedelta(hours=4))
    set_active(api, pk, True)

    until = (now - timedelta(hours=1)).isoformat()  # exclusive: `late` is not in the window

    queued = replay(api, pk, since=ago(hours=2, minutes=30), until=until)

    assert queued.json() == {"queued": 1}
    assert list(Delivery.objects.values_list("event_id", flat=True)) == [middle.pk]


def test_replay_missing_never_sends_another_subscriptions_test_event(api, user, receiver):
    pk = create(api, receiver, event_types=["*"])
    other = create(api, receiver, event_types=["email.*"])
    assert api.post(f"/api/webhooks/{other}/test").json()["success"] is True

    assert replay(api, pk, since=ago(hours=1)).json() == {"queued": 0}


@pytest.mark.django_db(transaction=True)  # recording publishes once its results commit
def test_replay_missing_never_sends_an_endpoint_its_own_endpoint_disabled(api, user, receiver):
    pk = create(api, receiver, event_types=["*"])
    receiver.default = Reply(status=410)
    publish(user)
    deliveries_pump(idle_seconds=0)
    assert Event.objects.filter(event_type="endpoint.disabled", data__endpoint_id=pk).exists()
    receiver.default = Reply(status=200)
    set_active(api, pk, True)

    assert replay(api, pk, since=ago(hours=1)).json() == {"queued": 0}


def test_replay_missing_sends_operational_events_about_other_endpoints(user, receiver):
    subscription = disabled_subscription(user, receiver, event_types=["endpoint.*"])
    mine, others, not_the_engines = (
        publish(user, "endpoint.disabled", data={"endpoint_id": endpoint}, source=source)
        for endpoint, source in (
            (subscription.pk, "system"),
            (subscription.pk + 1, "system"),
            (subscription.pk, "api"),  # only the engine's own events name a subject
        )
    )

    replay_last_hour(subscription)

    assert mine.source == "system"
    assert replayed_event_ids() == [others.pk, not_the_engines.pk]


@pytest.mark.parametrize(
    ("patterns", "wanted"),
    [
        (["*"], ["task.created", "calendar.event.created", "email.received"]),
        (["calendar.event.*"], ["calendar.event.created"]),
        (["calendar.*", "task.created"], ["task.created", "calendar.event.created"]),
        (["email.received"], ["email.received"]),
    ],
)
def test_replay_missing_matches_types_as_the_fan_out_does(user, receiver, patterns, wanted):
    subscription = disabled_subscription(user, receiver, event_types=patterns)
    events = [
        publish(user, event_type)
        for event_type in ("task.created", "calendar.event.created", "email.received")
    ]
    assert not Delivery.objects.exists()

    queued = replay_last_hour(subscription)

    replayed = Delivery.objects.values_list("event__event_type", flat=True)
    assert queued == len(wanted)
    assert sorted(replayed) == sorted(wanted)
    assert sorted(replayed) == sorted(
        e.event_type
        for e in events
        if services.subscription_wants(subscription=subscription, event=e)
    )


def test_a_prefix_wildcard_is_a_literal_prefix(user, receiver):
    subscription = disabled_subscription(user, receiver, event_types=["acme_shop.*", "50%.*"])
    for event_type in ("acme_shop.order", "acmeXshop.order", "50%.x", "5000.x", "acme_shop"):
        Event.objects.create(
            public_id=new_id("evt"),
            owner=user,
            event_type=event_type,
            data={},
            created_at=timezone.now(),
        )

    replay_last_hour(subscription)

    replayed = Delivery.objects.values_list("event__event_type", flat=True)
    assert sorted(replayed) == ["50%.x", "acme_shop.order"]


def test_replay_missing_honours_the_subscriptions_channels(user, receiver):
    subscription = disabled_subscription(user, receiver, channels=["shop:a"])
    on_a = publish(user, channels=["shop:a", "shop:z"])
    publish(user, channels=["shop:b"])
    publish(user)

    replay_last_hour(subscription)

    assert replayed_event_ids() == [on_a.pk]


def test_replay_missing_honours_the_payload_filter(user, receiver):
    subscription = disabled_subscription(
        user, receiver, filter={"data.status": "paid", "data.total": {"$gte": 100}}
    )
    paid = publish(user, data={"status": "paid", "total": 120})
    publish(user, data={"status": "paid", "total": 99})
    publish(user, data={"status": "open", "total": 120})

    replay_last_hour(subscription)

    assert replayed_event_ids() == [paid.pk]


def test_a_filter_on_created_at_reads_it_as_the_wire_writes_it(user, receiver):
    now = timezone.now()
    times = [
        now.replace(microsecond=0) - timedelta(minutes=3),  # written without a fraction
        now.replace(microsecond=120) - timedelta(minutes=2),
        now.replace(microsecond=500000) - timedelta(minutes=1),
    ]
    events = [
        Event.objects.create(
            public_id=new_id("evt"), owner=user, event_type="task.created", data={}, created_at=t
        )
        for t in times
    ]
    subscription = disabled_subscription(
        user,
        receiver,
        filter={"created_at": {"$in": [wire.timestamp(event) for event in events[:2]]}},
    )

    replay_last_hour(subscription)

    assert replayed_event_ids() == [events[0].pk, events[1].pk]


def test_replay_missing_goes_in_batches_and_wakes_one_pump_after_commit(
    user, receiver, django_capture_on_commit_callbacks
):
    subscription = disabled_subscription(user, receiver)
    now = timezone.now()
    count = 2 * services.REPLAY_BATCH_SIZE + 1
    Event.objects.bulk_create(
        Event(
            public_id=new_id("evt"),
            owner=user,
            event_type="task.created",
            data={"n": n},
            created_at=now - timedelta(microseconds=count - n),
        )
        for n in range(count)
    )

    with django_capture_on_commit_callbacks() as woken:
        queued = replay_last_hour(subscription)
    with django_capture_on_commit_callbacks() as woken_again:
        again = replay_last_hour(subscription)

    assert queued == count == Delivery.objects.filter(status=Status.PENDING).count()
    assert len(woken) == 1
    assert (again, len(woken_again)) == (0, 0)


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


@pytest.mark.parametrize("action", [replay, recover])
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
def test_a_bad_window_answers_422_naming_the_field(api, receiver, action, body, field):
    pk = create(api, receiver)

    response = action(api, pk, **body)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["errors"]) == [field]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"since": 31}, "since"),
        ({"since": 40, "until": 5}, "until"),
    ],
)
def test_replay_missing_refuses_a_window_over_30_days(api, receiver, body, field):
    pk = create(api, receiver)
    times = {name: ago(days=days) for name, days in body.items()}

    response = replay(api, pk, **times)

    assert response.status_code == 422
    assert response.json()["errors"] == {field: ["The window may span at most 30 days."]}


def test_a_window_of_exactly_30_days_is_accepted(api, receiver):
    pk = create(api, receiver)
    until = timezone.now()

    response = replay(
        api, pk, since=(until - timedelta(days=30)).isoformat(), until=until.isoformat()
    )

    assert response.status_code == 202


def test_a_time_without_an_offset_is_read_as_utc(api, user, receiver):
    pk = create(api, receiver)
    set_active(api, pk, False)
    publish(user)
    set_active(api, pk, True)
    since = (timezone.now() - timedelta(hours=1)).replace(tzinfo=None).isoformat()

    assert replay(api, pk, since=since).json() == {"queued": 1}


def test_another_users_subscription_answers_404(api, other_api, user, receiver):
    pk = create(api, receiver)
    set_active(api, pk, False)
    publish(user)
    Delivery.objects.create(
        event=publish(user, "task.updated"),
        subscription_id=pk,
        status=Status.FAILED,
    )

    assert replay(other_api, pk, since=ago(hours=1)).status_code == 404
    assert recover(other_api, pk, since=ago(hours=1), until=ago(seconds=0)).status_code == 404
    assert list(Delivery.objects.values_list("status", flat=True)) == [Status.FAILED]


def test_the_schema_documents_both_windows(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]

    replay_op = paths["/api/webhooks/{id}/replay-missing"]["post"]
    recover_op = paths["/api/webhooks/{id}/recover"]["post"]

    components = schema["components"]["schemas"]
    assert set(components["ReplayMissingRequest"]["properties"]) == {"since", "until"}
    assert components["ReplayMissingRequest"]["required"] == ["since"]
    assert set(components["RecoverRequest"]["properties"]) == {"since", "until"}
    assert "202" in replay_op["responses"]
    assert "202" in recover_op["responses"]
    assert "while it was disabled" in " ".join(replay_op["description"].split())
    assert "[since, until)" in recover_op["description"]
    assert components["Queued"]["properties"]["queued"]["type"] == "integer"
    assert components["Recovered"]["properties"]["requeued"]["type"] == "integer"
