"""The REST API's JSON parser (config.parsers): 400 or 413 with a JSON body, never a 500."""

import json

import pytest
import requests
from rest_framework.settings import api_settings

from config.parsers import SafeJSONParser
from conftest import child_env, start_web_server

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/events", "/api/webhooks", "/api/channels", "/api/tokens"]
TOO_DEEP = b'{"event_type": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


def test_the_api_parses_json_with_the_safe_parser():
    assert api_settings.DEFAULT_PARSER_CLASSES[0] is SafeJSONParser


@pytest.mark.parametrize("path", ENDPOINTS)
def test_json_nested_too_deep_is_400_with_a_json_body_on_every_endpoint(api, path):
    response = api.post(path, TOO_DEEP, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "nested deeper" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"event_type": "order.created", "data": {"total": NaN}}',
        b'{"event_type": "order.created", "data": {"total": 1e999}}',
        b'{"event_type": "order.created", "data": {"note": "\\udc00"}}',
        b'{"event_type": "order.created", "data": {"n": ' + b"1" * 5_000 + b"}}",
    ],
    ids=["nan", "overflowing-float", "lone-surrogate", "5000-digit-integer"],
)
def test_json_we_cannot_hold_is_400_saying_why(api, body):
    response = api.post("/api/events", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")


def test_a_body_past_the_upload_limit_is_413_not_500(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    body = json.dumps({"event_type": "order.created", "data": {"note": "x" * 2_000}})

    response = api.post("/api/events", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {
        "detail": "The body is over 1000 bytes.",
        "code": "payload_too_large",
    }


def test_a_body_in_another_declared_charset_is_read_in_it(api):
    body = json.dumps({"name": "caf\u00e9"}).encode("latin-1").replace(b"\\u00e9", b"\xe9")

    response = api.post("/api/tokens", body, content_type="application/json; charset=latin-1")

    assert response.status_code == 201
    assert response.json()["name"] == "caf\u00e9"


def test_a_body_that_is_not_in_its_charset_is_400(api):
    response = api.post("/api/tokens", b'{"name": "\xff"}', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_more_form_fields_than_django_accepts_is_400_not_500(api):
    body = "&".join(f"field{number}=x" for number in range(1_001))

    response = api.post("/api/tokens", body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_an_id_that_is_not_yours_is_404_with_the_not_found_code(api):
    response = api.get("/api/webhooks/2147483647")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.server
def test_the_api_answers_503_with_retry_after_when_the_database_is_unreachable(tmp_path):
    handle, base_url = start_web_server(
        child_env(DATABASE_URL="postgres://postgres@127.0.0.1:9/nowhere"), tmp_path / "web.log"
    )
    try:
        response = requests.get(
            f"{base_url}/api/events", headers={"Authorization": "Bearer whk_any"}, timeout=10
        )
    finally:
        handle.stop()

    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"
    assert response.headers["Retry-After"] == "5"
