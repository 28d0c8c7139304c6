import json
import logging

import pytest

from config.observability import JsonFormatter, RequestIdFilter

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines(caplog):
    """The captured log records, rendered by the project's JSON formatter."""
    formatter, request_filter = JsonFormatter(), RequestIdFilter()

    def render():
        lines = []
        for record in caplog.records:
            request_filter.filter(record)
            lines.append(json.loads(formatter.format(record)))
        return lines

    caplog.set_level(logging.INFO)
    return render


def test_request_id_from_the_caller_is_returned_and_logged(client, json_lines):
    response = client.get("/health/live", HTTP_X_REQUEST_ID="req-abc.123")

    assert response["X-Request-ID"] == "req-abc.123"
    access = [line for line in json_lines() if line["message"] == "http.request"]
    assert access
    assert access[-1]["request_id"] == "req-abc.123"
    assert {"timestamp", "level", "logger", "status", "duration_ms"} <= access[-1].keys()


def test_a_request_id_is_generated_when_none_or_an_unsafe_one_is_sent(client):
    generated = client.get("/health/live")["X-Request-ID"]
    replaced = client.get("/health/live", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]
    assert len(generated) == 32
    assert replaced != "bad id\nwith newline"
    assert len(replaced) == 32


def test_secrets_in_log_extras_are_redacted(json_lines):
    logging.getLogger("test").info(
        "login", extra={"authorization": "Bearer abc", "secret": "whsec_x", "user_id": 7}
    )
    line = json_lines()[-1]
    assert line["authorization"] == "[redacted]"
    assert line["secret"] == "[redacted]"
    assert line["user_id"] == 7


def test_secrets_nested_in_log_extras_are_redacted_and_identifiers_kept(json_lines):
    logging.getLogger("test").info(
        "received",
        extra={
            "request_headers": {"Authorization": "Basic abc", "X-Shopify-Hmac-Sha256": "sig",
                                "Webhook-Signature": "v1,xyz", "Accept": "*/*"},
            "attempts": [{"api_key": "k1"}],
            "token_id": 42,
        },
    )  # fmt: skip
    line = json_lines()[-1]
    assert line["request_headers"] == {
        "Authorization": "[redacted]", "X-Shopify-Hmac-Sha256": "[redacted]",
        "Webhook-Signature": "[redacted]", "Accept": "*/*",
    }  # fmt: skip
    assert line["attempts"] == [{"api_key": "[redacted]"}]
    assert line["token_id"] == 42


def test_metrics_count_requests_by_view_and_status(client):
    client.get("/health/live")
    text = client.get("/metrics").content.decode()
    assert 'http_requests_total{method="GET",status="200",view="health-live"}' in text
    assert "http_request_duration_seconds_bucket" in text


def test_unknown_path_answers_json_404_when_debug_is_off(client, settings):
    settings.DEBUG = False
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
