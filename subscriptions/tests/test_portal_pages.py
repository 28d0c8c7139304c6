"""Portal pages, through Django's test client: scoping, CSRF, and the endpoint form's
validation (the API's own rules)."""

import json
from datetime import timedelta

import pytest
from django.test import Client

from subscriptions.models import Delivery, Subscription
from subscriptions.services import subscription_create, subscription_test_send

pytestmark = pytest.mark.django_db

FORM = {
    "url": "https://example.com/hook",
    "description": "",
    "event_types": ["task.created"],
    "headers": "",
    "filter": "",
    "channels": "",
    "max_in_flight": "10",
    "rate_limit_per_second": "",
    "retry_count": "5",
    "timeout_seconds": "10",
}


@pytest.fixture
def portal(user) -> Client:
    """A browser logged in as `user`."""
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def others_endpoint(other_user):
    return subscription_create(owner=other_user, url="https://example.com/b", event_types=["*"])


def test_the_list_shows_only_the_users_own_endpoints(portal, user, others_endpoint):
    mine = subscription_create(owner=user, url="https://example.com/mine", event_types=["*"])

    response = portal.get("/portal/")

    assert response.status_code == 200
    assert [health.subscription for health in response.context["endpoints"]] == [mine]
    assert b"example.com/b" not in response.content


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/portal/endpoints/{pk}"),
        ("get", "/portal/endpoints/{pk}/edit"),
        ("post", "/portal/endpoints/{pk}/edit"),
        ("get", "/portal/endpoints/{pk}/deliveries"),
        ("post", "/portal/endpoints/{pk}/test"),
        ("post", "/portal/endpoints/{pk}/rotate-secret"),
        ("post", "/portal/endpoints/{pk}/recover"),
        ("post", "/portal/endpoints/{pk}/replay-missing"),
    ],
)
def test_another_users_endpoint_is_a_404(portal, others_endpoint, method, path):
    secret = others_endpoint.secret

    response = getattr(portal, method)(path.format(pk=others_endpoint.pk))

    assert response.status_code == 404
    others_endpoint.refresh_from_db()
    assert others_endpoint.secret == secret


@pytest.mark.parametrize("suffix", ["", "/retry"])
def test_another_users_delivery_is_a_404_also_under_ones_own_endpoint(
    portal, user, other_user, suffix
):
    mine = subscription_create(owner=user, url="http://127.0.0.1:9/", event_types=["*"])
    theirs = subscription_create(owner=other_user, url="http://127.0.0.1:9/", event_types=["*"])
    delivery = subscription_test_send(subscription=theirs).delivery
    method = portal.post if suffix else portal.get

    for endpoint in (mine, theirs):
        response = method(f"/portal/endpoints/{endpoint.pk}/deliveries/{delivery.pk}{suffix}")
        assert response.status_code == 404


def test_a_deleted_endpoint_is_a_404(portal, user):
    endpoint = subscription_create(owner=user, url="https://example.com/a", event_types=["*"])
    Subscription.objects.filter(pk=endpoint.pk).update(deleted_at=endpoint.created_at)

    assert portal.get(f"/portal/endpoints/{endpoint.pk}").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/portal/endpoints/new",
        "/portal/endpoints/{pk}/edit",
        "/portal/endpoints/{pk}/test",
        "/portal/endpoints/{pk}/rotate-secret",
        "/portal/endpoints/{pk}/recover",
        "/portal/endpoints/{pk}/replay-missing",
        "/portal/filter-check",
        "/portal/logout",
    ],
)
def test_every_form_refuses_a_post_without_its_csrf_token(user, path):
    endpoint = subscription_create(owner=user, url="https://example.com/a", event_types=["*"])
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    response = browser.post(path.format(pk=endpoint.pk), FORM)

    assert response.status_code == 403
    assert Subscription.objects.count() == 1
    assert Subscription.objects.get().secret == endpoint.secret


def test_every_form_carries_a_csrf_token(portal, user):
    endpoint = subscription_create(owner=user, url="https://example.com/a", event_types=["*"])

    for path in ("/portal/endpoints/new", f"/portal/endpoints/{endpoint.pk}/edit",
                 f"/portal/endpoints/{endpoint.pk}"):  # fmt: skip
        html = portal.get(path).content.decode()
        assert html.count('method="post"') == html.count('name="csrfmiddlewaretoken"'), path


def test_creating_an_endpoint_shows_its_secret_once(portal, user):
    response = portal.post(
        "/portal/endpoints/new",
        {**FORM, "headers": "Authorization: Bearer abc", "channels": "shopify:a\nshopify:b"},
    )

    endpoint = Subscription.objects.get(owner=user)
    assert response.status_code == 200
    assert endpoint.secret in response.content.decode()
    assert endpoint.headers == {"Authorization": "Bearer abc"}
    assert endpoint.channels == ["shopify:a", "shopify:b"]
    assert endpoint.retry_count == 5
    assert endpoint.secret not in portal.get(f"/portal/endpoints/{endpoint.pk}").content.decode()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": "not a url"}, "url"),
        ({"url": "ftp://example.com/"}, "url"),
        ({"event_types": []}, "event_types"),
        ({"event_types": ["nope.created"]}, "event_types"),
        ({"filter": "{not json"}, "filter"),
        ({"filter": '{"data.total": {"$near": 1}}'}, "filter"),
        ({"filter": "[]"}, "filter"),
        ({"headers": "no colon here"}, "headers"),
        ({"headers": "Content-Type: text/plain"}, "headers"),
        ({"headers": "webhook-id: mine"}, "headers"),
        ({"max_in_flight": "0"}, "max_in_flight"),
        ({"rate_limit_per_second": "0"}, "rate_limit_per_second"),
        ({"retry_count": "21"}, "retry_count"),
        ({"timeout_seconds": "61"}, "timeout_seconds"),
    ],
)
def test_an_invalid_endpoint_is_refused_naming_the_field(portal, changes, field):
    response = portal.post("/portal/endpoints/new", {**FORM, **changes})

    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert not Subscription.objects.exists()


def test_editing_keeps_a_masked_header_and_changes_the_rest(portal, user):
    endpoint = subscription_create(
        owner=user, url="https://example.com/a", event_types=["*"], headers={"X-Key": "s3cret"}
    )
    page = portal.get(f"/portal/endpoints/{endpoint.pk}/edit").content.decode()
    assert "s3cret" not in page
    assert "X-Key: ********" in page

    response = portal.post(
        f"/portal/endpoints/{endpoint.pk}/edit",
        {**FORM, "headers": "X-Key: ********\nX-Other: 2", "filter": '{"data.task_id": "task-1"}',
         "is_active": "on"},
    )  # fmt: skip

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.headers == {"X-Key": "s3cret", "X-Other": "2"}
    assert endpoint.filter == {"data.task_id": "task-1"}
    assert endpoint.filter_path  # compiled for fan-out by the service
    assert endpoint.event_types == ["task.created"]


def test_saving_a_filter_says_which_examples_it_matches(portal, user):
    response = portal.post(
        "/portal/endpoints/new",
        {**FORM, "event_types": ["task.*"], "filter": '{"data.due": {"$exists": true}}'},
        follow=True,
    )

    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["The filter matches the examples of: task.created."]


def test_the_filter_check_answers_problems_and_matches(portal):
    def check(spec: str, types: list[str]) -> dict:
        body = json.dumps({"filter": spec, "event_types": types})
        return portal.post("/portal/filter-check", body, content_type="application/json").json()

    assert check('{"data.title": "Write report"}', ["task.created", "task.deleted"]) == {
        "problem": None,
        "matches": {"task.created": True, "task.deleted": False},
    }
    assert check('{"data.x": {"$bad": 1}}', ["*"])["problem"]
    assert check("{oops", ["*"])["problem"].startswith("Not JSON")


def test_the_delivery_log_filters_by_status_and_event_and_pages_by_keyset(portal, user):
    endpoint = subscription_create(owner=user, url="http://127.0.0.1:9/", event_types=["*"])
    deliveries = [subscription_test_send(subscription=endpoint).delivery for _ in range(3)]
    Delivery.objects.filter(pk=deliveries[0].pk).update(status=Delivery.Status.SUCCEEDED)
    log = f"/portal/endpoints/{endpoint.pk}/deliveries"

    def shown(query: str, size=None) -> list[int]:
        return [d.pk for d in portal.get(log + query).context["page"].deliveries]

    assert shown("") == [d.pk for d in reversed(deliveries)]
    assert shown("?status=succeeded") == [deliveries[0].pk]
    assert shown(f"?event={deliveries[1].event.public_id}") == [deliveries[1].pk]
    assert shown(f"?before={deliveries[2].pk}") == [deliveries[1].pk, deliveries[0].pk]


def test_a_delivery_shows_its_attempts_with_custom_headers_redacted(portal, user):
    endpoint = subscription_create(
        owner=user, url="http://127.0.0.1:9/", event_types=["*"], headers={"X-Key": "s3cret"}
    )
    delivery = subscription_test_send(subscription=endpoint).delivery

    page = portal.get(f"/portal/endpoints/{endpoint.pk}/deliveries/{delivery.pk}")

    assert page.status_code == 200
    assert b"Attempt 1" in page.content
    assert b"s3cret" not in page.content


def test_retry_makes_a_failed_delivery_due_again(portal, user):
    endpoint = subscription_create(owner=user, url="http://127.0.0.1:9/", event_types=["*"])
    delivery = subscription_test_send(subscription=endpoint).delivery

    response = portal.post(f"/portal/endpoints/{endpoint.pk}/deliveries/{delivery.pk}/retry")

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING


def test_rotating_shows_the_new_secret(portal, user):
    endpoint = subscription_create(owner=user, url="https://example.com/a", event_types=["*"])
    old = endpoint.secret

    response = portal.post(f"/portal/endpoints/{endpoint.pk}/rotate-secret")

    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.previous_secret == old
    assert endpoint.secret in response.content.decode()


def test_recover_requeues_failed_deliveries_since_the_time_given(portal, user):
    endpoint = subscription_create(owner=user, url="http://127.0.0.1:9/", event_types=["*"])
    delivery = subscription_test_send(subscription=endpoint).delivery
    since = delivery.created_at.strftime("%Y-%m-%dT%H:%M")

    response = portal.post(f"/portal/endpoints/{endpoint.pk}/recover", {"since": since})

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING


def test_recover_leaves_failed_deliveries_after_the_window_alone(portal, user):
    endpoint = subscription_create(owner=user, url="http://127.0.0.1:9/", event_types=["*"])
    delivery = subscription_test_send(subscription=endpoint).delivery
    before = (delivery.created_at - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    until = (delivery.created_at - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M")

    portal.post(f"/portal/endpoints/{endpoint.pk}/recover", {"since": before, "until": until})

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED


def test_replay_missing_sends_the_events_the_endpoint_missed_once(portal, user):
    from django.utils import timezone

    from webhooks.services import event_publish

    endpoint = subscription_create(owner=user, url="http://127.0.0.1:9/", event_types=["task.*"])
    Subscription.objects.filter(pk=endpoint.pk).update(is_active=False)
    missed = event_publish(owner=user, event_type="task.completed", data={}).event
    event_publish(owner=user, event_type="email.received", data={})  # not its type
    Subscription.objects.filter(pk=endpoint.pk).update(is_active=True)
    since = (timezone.now() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")

    for _ in range(2):  # a second replay sends nothing new
        response = portal.post(f"/portal/endpoints/{endpoint.pk}/replay-missing", {"since": since})
        assert response.status_code == 302

    assert list(Delivery.objects.values_list("event_id", flat=True)) == [missed.pk]


def test_a_window_longer_than_the_replay_limit_is_refused(portal, user):
    from django.utils import timezone

    endpoint = subscription_create(owner=user, url="http://127.0.0.1:9/", event_types=["*"])
    since = (timezone.now() - timedelta(days=40)).strftime("%Y-%m-%dT%H:%M")

    response = portal.post(
        f"/portal/endpoints/{endpoint.pk}/replay-missing", {"since": since}, follow=True
    )

    assert "at most 30 days" in response.content.decode()
    assert not Delivery.objects.exists()


def test_the_endpoint_page_charts_its_deliveries_by_hour_and_outcome(portal, user):
    from subscriptions.portal.selectors import deliveries_by_hour

    endpoint = subscription_create(owner=user, url="http://127.0.0.1:9/", event_types=["*"])
    for _ in range(3):
        subscription_test_send(subscription=endpoint)  # nothing listens: each one fails

    bars = deliveries_by_hour(subscription=endpoint)
    page = portal.get(f"/portal/endpoints/{endpoint.pk}").content.decode()

    assert len(bars) == 24
    assert (bars[-1].counts["failed"], bars[-1].heights["failed"]) == (3, 100)
    assert sum(bar.total for bar in bars) == 3
    assert 'id="deliveries-chart"' in page
    assert "3 failed" in page


def test_the_endpoint_page_lists_what_happened_to_it(portal, user):
    from subscriptions import operational
    from webhooks.services import event_publish

    endpoint = subscription_create(owner=user, url="https://example.com/h", event_types=["*"])
    data = {"endpoint_id": endpoint.pk, "url": endpoint.url, "reason": "It answered 410 Gone."}
    event_publish(owner=user, event_type="endpoint.disabled", data=data, source=operational.SOURCE)
    event_publish(owner=user, event_type="endpoint.disabled", data=data)  # not ours: source api

    page = portal.get(f"/portal/endpoints/{endpoint.pk}").content.decode()

    assert 'id="operational-events"' in page
    assert page.count("It answered 410 Gone.") == 1
