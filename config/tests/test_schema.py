"""The OpenAPI schema drf-spectacular generates from the code."""

import re

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

CURSOR_PAGINATED = {
    "/api/channels": [],
    "/api/events": ["event_type", "since"],
    "/api/inbound-events": ["platform", "topic", "status", "since"],
    "/api/webhooks": [],
    "/api/webhooks/{id}/deliveries": ["status", "event_type", "since"],
}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_schema_generates_and_validates_without_a_warning(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))


@pytest.mark.parametrize("path", CURSOR_PAGINATED)
def test_a_cursor_paginated_list_documents_its_page_cursor_limit_and_filters(schema, path):
    operation = schema["paths"][path]["get"]
    page_ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = schema["components"]["schemas"][page_ref.rsplit("/", 1)[1]]

    assert sorted(page["required"]) == ["next", "previous", "results"]
    assert page["properties"]["results"]["type"] == "array"
    assert {p["name"] for p in operation["parameters"] if p["in"] == "query"} == {
        "cursor",
        "limit",
        *CURSOR_PAGINATED[path],
    }


@pytest.mark.parametrize("value", ["", " ", "\t\n", "\x1d", "\u3000 \xa0"])
def test_a_string_that_refuses_blanks_is_documented_as_more_than_whitespace(schema, value):
    # DRF trims what str.strip() removes, and a field that refuses blanks then refuses these.
    pattern = schema["components"]["schemas"]["ApiTokenRequest"]["properties"]["name"]["pattern"]

    assert re.search(pattern, value) is None
    assert re.search(pattern, f"{value}a{value}")


def test_an_event_s_data_is_documented_as_an_object(schema):
    data = schema["components"]["schemas"]["EventPublishRequest"]["properties"]["data"]

    assert data["type"] == "object"
