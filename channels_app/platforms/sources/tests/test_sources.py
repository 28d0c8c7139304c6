"""Configured sources: any platform verified by Standard Webhooks or a named HMAC header,
posted as real signed requests (signed with the Standard Webhooks reference library)."""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import pytest
import requests
from standardwebhooks import Webhook

from channels_app.models import ChannelAccount, InboundEvent
from channels_app.processing import inbound_event_process
from conftest import child_env, start_web_server
from subscriptions.models import Delivery
from webhooks.models import Event
from webhooks.signing import secret_generate

pytestmark = pytest.mark.django_db

SECRET = secret_generate()
BODY = json.dumps({"type": "invoice.paid", "data": {"invoice": "inv_1", "amount": 1200}}).encode()


@pytest.fixture
def acme(user):
    return ChannelAccount.objects.create(
        owner=user,
        platform="acme",
        name="Acme billing",
        external_id="acme-main",
        secret=SECRET,
        verification="standard_webhooks",
    )


def standard_headers(body: bytes, msg_id: str = "msg_1", at: datetime | None = None) -> dict:
    at = at or datetime.now(tz=UTC)
    signature = Webhook(SECRET).sign(msg_id, at, body.decode())
    return {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(int(at.timestamp())),
        "HTTP_WEBHOOK_SIGNATURE": signature,
    }


def post(client, path, body, headers):
    return client.post(path, body, content_type="application/json", **headers)


def test_a_standard_webhooks_request_is_stored_once(client, acme):
    first = post(client, "/webhooks/acme", BODY, standard_headers(BODY))
    again = post(client, "/api/webhooks/acme", BODY, standard_headers(BODY))

    assert first.status_code == 200
    assert first.json()["status"] == "received"
    assert again.json()["status"] == "duplicate"
    event = InboundEvent.objects.get()
    assert (event.platform, event.topic, event.external_id) == ("acme", "invoice.paid", "msg_1")
    assert event.account == acme
    assert "Webhook-Signature" not in event.headers


def test_a_tampered_body_is_401_and_stores_nothing(client, acme):
    headers = standard_headers(BODY)
    tampered = BODY.replace(b"1200", b"9999")

    response = post(client, "/webhooks/acme", tampered, headers)

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert not InboundEvent.objects.exists()


def test_a_stale_timestamp_is_401(client, acme):
    stale = datetime.fromtimestamp(time.time() - 600, tz=UTC)

    response = post(client, "/webhooks/acme", BODY, standard_headers(BODY, at=stale))

    assert response.status_code == 401
    assert not InboundEvent.objects.exists()


def test_an_unknown_source_is_404(client, acme):
    response = post(client, "/webhooks/globex", BODY, standard_headers(BODY))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_source_without_verification_is_unknown(client, user):
    ChannelAccount.objects.create(
        owner=user, platform="plain", name="Plain", external_id="p", secret=SECRET
    )

    assert post(client, "/webhooks/plain", BODY, standard_headers(BODY)).status_code == 404


def test_a_payload_without_a_type_is_422_naming_it(client, acme):
    body = json.dumps({"data": {}}).encode()

    response = post(client, "/webhooks/acme", body, standard_headers(body))

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "type"]


def test_a_named_hex_hmac_header_verifies_and_the_payload_id_dedupes(client, user):
    ChannelAccount.objects.create(
        owner=user,
        platform="globex",
        name="Globex",
        external_id="g",
        secret="plain-shared-secret",
        verification="hmac_sha256",
        signature_header="X-Globex-Signature",
    )
    body = json.dumps({"id": "ev_42", "event_type": "stock.low", "sku": "A-1"}).encode()
    digest = hmac.new(b"plain-shared-secret", body, hashlib.sha256).hexdigest()

    good = post(client, "/webhooks/globex", body, {"HTTP_X_GLOBEX_SIGNATURE": f"sha256={digest}"})
    bad = post(client, "/webhooks/globex", body, {"HTTP_X_GLOBEX_SIGNATURE": "0" * 64})

    assert good.status_code == 200
    assert bad.status_code == 401
    assert InboundEvent.objects.get().external_id == "ev_42"


def test_each_account_of_a_source_is_tried(client, acme, other_user):
    other_secret = secret_generate()
    other = ChannelAccount.objects.create(
        owner=other_user,
        platform="acme",
        name="Acme for Bob",
        external_id="acme-bob",
        secret=other_secret,
        verification="standard_webhooks",
    )
    at = datetime.now(tz=UTC)
    headers = {
        "HTTP_WEBHOOK_ID": "msg_bob",
        "HTTP_WEBHOOK_TIMESTAMP": str(int(at.timestamp())),
        "HTTP_WEBHOOK_SIGNATURE": Webhook(other_secret).sign("msg_bob", at, BODY.decode()),
    }

    assert post(client, "/webhooks/acme", BODY, headers).status_code == 200
    assert InboundEvent.objects.get().account == other


def test_processing_publishes_source_events_to_subscribers(client, api, acme):
    created = api.post(
        "/api/webhooks",
        {"url": "http://127.0.0.1:9/hook", "event_types": ["acme.*"]},
        format="json",
    )
    assert created.status_code == 201
    post(client, "/webhooks/acme", BODY, standard_headers(BODY))

    inbound_event_process(event=InboundEvent.objects.get())

    event = Event.objects.get()
    assert (event.event_type, event.source, event.data) == (
        "acme.invoice.paid",
        "acme",
        {"invoice": "inv_1", "amount": 1200},
    )
    assert Delivery.objects.filter(event=event).count() == 1
    assert InboundEvent.objects.get().status == InboundEvent.Status.PROCESSED


def test_the_catalog_lists_configured_sources(api, acme):
    names = [entry["name"] for entry in api.get("/api/webhooks/event-types").json()]

    assert "acme.*" in names


def test_a_source_account_needs_a_verification_scheme(api):
    fields = {"platform": "initech", "name": "Initech", "external_id": "i", "secret": SECRET}

    missing = api.post("/api/channels", fields, format="json")
    header_missing = api.post(
        "/api/channels", {**fields, "verification": "hmac_sha256"}, format="json"
    )
    reserved = api.post(
        "/api/channels",
        {**fields, "platform": "register", "verification": "standard_webhooks"},
        format="json",
    )
    builtin = api.post(
        "/api/channels",
        {**fields, "platform": "task", "verification": "standard_webhooks"},
        format="json",
    )
    created = api.post(
        "/api/channels", {**fields, "verification": "standard_webhooks"}, format="json"
    )

    assert missing.status_code == 422
    assert "verification" in missing.json()["errors"]
    assert "signature_header" in header_missing.json()["errors"]
    assert "platform" in reserved.json()["errors"]
    assert "platform" in builtin.json()["errors"]
    assert created.status_code == 201
    assert created.json()["verification"] == "standard_webhooks"
    assert "secret" not in created.json()


def test_another_users_sources_are_neither_listed_nor_subscribable(other_api, acme):
    names = [entry["name"] for entry in other_api.get("/api/webhooks/event-types").json()]
    created = other_api.post(
        "/api/webhooks",
        {"url": "http://127.0.0.1:9/hook", "event_types": ["acme.*"]},
        format="json",
    )

    assert "acme.*" not in names
    assert created.status_code == 422
    assert "event_types" in created.json()["errors"]


@pytest.mark.server
def test_a_database_outage_on_a_source_lookup_answers_503(tmp_path):
    handle, base_url = start_web_server(
        child_env(DATABASE_URL="postgres://postgres@127.0.0.1:9/nowhere"), tmp_path / "web.log"
    )
    try:
        response = requests.post(f"{base_url}/webhooks/acme", data=BODY, timeout=10)
    finally:
        handle.stop()

    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"


def test_a_type_that_could_break_out_of_an_sse_line_or_header_is_422(client, acme):
    body = json.dumps({"type": "x\n\nid: evt_forged\nevent: order.paid"}).encode()

    response = post(client, "/webhooks/acme", body, standard_headers(body))

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "type"]
    assert not InboundEvent.objects.exists()
