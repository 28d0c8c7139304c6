"""The live page as the server renders it: the user's recent events, before the stream."""

import re
from datetime import timedelta

import pytest

from webhooks.models import Event
from webhooks.services import event_publish
from webhooks.views import LIVE_PAGE_HISTORY

pytestmark = pytest.mark.django_db

ROW = re.compile(r'<tr data-event-id="([^"]+)">')
RESUME_AFTER = re.compile(r'data-resume-after="([^"]*)"')


@pytest.fixture
def viewer(client, user):
    client.force_login(user)
    return client


def publish_many(owner, count: int) -> list[Event]:
    return [
        event_publish(owner=owner, event_type="task.created", data={"n": n}).event
        for n in range(count)
    ]


def test_it_opens_on_the_users_most_recent_events_newest_first(viewer, user, other_user):
    events = publish_many(user, LIVE_PAGE_HISTORY + 5)
    publish_many(other_user, 1)

    page = viewer.get("/dashboard/live").content.decode()

    newest_first = [event.public_id for event in reversed(events)]
    assert ROW.findall(page) == newest_first[:LIVE_PAGE_HISTORY]


def test_the_stream_resumes_after_the_newest_rendered_event(viewer, user):
    *_, newest = publish_many(user, 3)

    page = viewer.get("/dashboard/live").content.decode()

    assert RESUME_AFTER.findall(page) == [newest.public_id]


def test_rows_are_ordered_by_creation_time(viewer, user):
    late, early = publish_many(user, 2)
    Event.objects.filter(pk=early.pk).update(created_at=late.created_at - timedelta(minutes=1))

    page = viewer.get("/dashboard/live").content.decode()

    assert ROW.findall(page) == [late.public_id, early.public_id]
    # The stream resumes after the newest by id, whatever the times say: nothing is replayed
    # that the page already shows.
    assert RESUME_AFTER.findall(page) == [early.public_id]


def test_a_row_shows_time_type_source_and_summary(viewer, user):
    event_publish(
        owner=user, event_type="order.created", data={"id": 7, "name": "<b>"}, source="shopify"
    )

    page = viewer.get("/dashboard/live").content.decode()

    event = Event.objects.get()
    created = event.created_at.isoformat().replace("+00:00", "Z")
    assert f'<time datetime="{created}">' in page
    assert "<td>order.created</td><td>shopify</td><td>id=7, name=&lt;b&gt;</td>" in page


def test_with_no_events_it_opens_empty_and_streams_from_now(viewer):
    page = viewer.get("/dashboard/live").content.decode()

    assert ROW.findall(page) == []
    assert RESUME_AFTER.findall(page) == [""]


def test_it_asks_an_anonymous_visitor_to_log_in(client):
    response = client.get("/dashboard/live")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
