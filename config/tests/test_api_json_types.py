"""JSON bodies are read with the types the schema documents (webhooks.api.json_types.JSONTypes)."""

import pytest

pytestmark = pytest.mark.django_db

SUBSCRIPTION = {"url": "https://example.com/hook", "event_types": ["task.*"]}


def subscription(**fields) -> dict:
    return {**SUBSCRIPTION, **fields}


@pytest.mark.parametrize(
    ("path", "body", "field", "problem"),
    [
        ("/api/tokens", {"name": 0}, "name", "Must be a string."),
        ("/api/webhooks", subscription(retry_count="5"), "retry_count", "Must be an integer."),
        ("/api/webhooks", subscription(retry_count=True), "retry_count", "Must be an integer."),
        ("/api/webhooks", subscription(is_active="yes"), "is_active", "Must be true or false."),
        ("/api/webhooks", subscription(event_types=[1]), "event_types", "Must be a string."),
        ("/api/webhooks", subscription(headers={"X-A": 1}), "headers", "Must be a string."),
        ("/api/inbound-events/reprocess", {"ids": ["1"]}, "ids", "Must be an integer."),
    ],
)  # fmt: skip
def test_a_value_of_another_json_type_than_documented_is_422_naming_the_field(
    api, path, body, field, problem
):
    response = api.post(path, body, format="json")

    assert response.status_code == 422
    assert response.json()["errors"] == {field: [problem]}


def test_null_where_the_schema_allows_it_is_still_accepted(api):
    response = api.post("/api/webhooks", subscription(rate_limit_per_second=None), format="json")

    assert response.status_code == 201, response.content


def test_a_form_from_the_browsable_api_is_still_read_as_text(api):
    response = api.post("/api/tokens", {"name": "from a form"})  # multipart, as its form posts

    assert response.status_code == 201
    assert response.json()["name"] == "from a form"
