"""Newest-first cursor pages (webhooks.api.listing): what `limit` and `cursor` accept."""

import base64

import pytest

from webhooks.services import event_publish

pytestmark = pytest.mark.django_db


def cursor_of(query: str) -> str:
    return base64.b64encode(query.encode()).decode()


def test_limit_sets_the_page_size_and_next_walks_on(api, user):
    for number in range(3):
        event_publish(owner=user, event_type="task.created", data={"n": number})

    first = api.get("/api/events", {"limit": 2}).json()
    second = api.get(first["next"]).json()

    assert [len(first["results"]), len(second["results"])] == [2, 1]
    assert second["next"] is None
    assert api.get(second["previous"]).json()["results"] == first["results"]


@pytest.mark.parametrize("limit", ["0", "501", "-1", "abc", "1.5", "\u0663"])
def test_a_limit_outside_1_to_500_is_422_naming_it(api, limit):
    response = api.get("/api/events", {"limit": limit})

    assert response.status_code == 422
    assert response.json()["errors"] == {"limit": ["An integer from 1 to 500."]}


@pytest.mark.parametrize(
    "cursor", ["not base64!", cursor_of("r=x"), cursor_of("p=abc"), cursor_of("p=1\x002")]
)
def test_a_cursor_the_api_did_not_give_out_is_422_naming_it_not_500(api, cursor):
    response = api.get("/api/webhooks", {"cursor": cursor})

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["cursor"]
