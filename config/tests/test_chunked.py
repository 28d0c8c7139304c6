"""Chunked request bodies under the real gunicorn (config.bodies), sent chunked by requests.

requests sends a generator body with `Transfer-Encoding: chunked` and no Content-Length, as
platforms behind some proxies do; before config.bodies Django read every such body as empty.
"""

import base64
import json

import pytest
import requests
from django.contrib.auth.hashers import make_password

from channels_app.models import ChannelAccount, InboundEvent
from channels_app.platforms.shopify.platform import shopify_hmac
from config.bodies import body_limit
from conftest import child_env, database_url_for_children, start_web_server
from webhooks.services import api_token_create

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

SECRET = "shpss_chunked"
SHOP = "chunked.myshopify.com"
RECEIVER_CAP_MB = 1


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    """One gunicorn for the module, its receivers capped at 1 MB (Django's cap stays 2.5 MB)."""
    handle, base_url = start_web_server(
        child_env(DATABASE_URL=database_url_for_children(),
                  MAX_PAYLOAD_SIZE_MB=str(RECEIVER_CAP_MB)),
        tmp_path_factory.mktemp("chunked") / "web.log",
    )  # fmt: skip
    yield base_url
    handle.stop()


def chunked(body: bytes, size: int = 16 * 1024):
    """A generator body: requests sends it chunked, with no Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.fixture
def shop(user):
    return ChannelAccount.objects.create(
        owner=user, platform="shopify", name="Chunked", external_id=SHOP, secret=SECRET
    )


def shopify_headers(body: bytes, webhook_id: str = "wh-chunked") -> dict:
    return {
        "X-Shopify-Hmac-Sha256": shopify_hmac(SECRET, body),
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Webhook-Id": webhook_id,
        "Content-Type": "application/json",
    }


def test_requests_really_sends_a_generator_chunked():
    prepared = requests.Request("POST", "http://127.0.0.1/", data=chunked(b"{}")).prepare()
    assert prepared.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in prepared.headers


def test_a_chunked_signed_shopify_webhook_is_read_verified_and_stored(server, shop):
    body = json.dumps({"id": 1, "name": "#1", "note": "x" * 100_000}).encode()

    response = requests.post(f"{server}/webhooks/shopify", data=chunked(body),
                             headers=shopify_headers(body), timeout=10)  # fmt: skip

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "received"
    assert bytes(InboundEvent.objects.get().body) == body


def test_a_chunked_qualia_activity_is_read(server, user):
    ChannelAccount.objects.create(owner=user, platform="qualia", name="q", external_id="acme",
                                  password_hash=make_password("pw"))  # fmt: skip
    body = json.dumps({"description": "d", "type": "order_request", "order_id": "o1"}).encode()
    auth = "Basic " + base64.b64encode(b"acme:pw").decode()

    headers = {"Authorization": auth, "Content-Type": "application/json"}

    response = requests.post(
        f"{server}/webhook/activity", data=chunked(body), headers=headers, timeout=10
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "success"


def test_a_chunked_api_request_is_read(server, user):
    _, token = api_token_create(user=user, name="chunked")

    response = requests.post(
        f"{server}/api/tokens", data=chunked(b'{"name": "sent chunked"}'), timeout=10,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )  # fmt: skip

    assert response.status_code == 201, response.text
    assert response.json()["name"] == "sent chunked"


def test_a_chunked_body_over_the_receivers_cap_is_413(server, shop):
    body = b'{"note": "' + b"x" * (RECEIVER_CAP_MB * 1024 * 1024) + b'"}'

    response = requests.post(f"{server}/webhooks/shopify", data=chunked(body),
                             headers=shopify_headers(body), timeout=10)  # fmt: skip

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert not InboundEvent.objects.exists()


def test_a_chunked_body_over_every_cap_is_413_and_read_no_further(server, shop):
    sent = 0

    def endless():
        nonlocal sent
        while sent < 50 * body_limit():
            sent += 64 * 1024
            yield b"x" * (64 * 1024)

    try:
        response = requests.post(f"{server}/webhooks/shopify", data=endless(),
                                 headers=shopify_headers(b""), timeout=10)  # fmt: skip
    except requests.ConnectionError:
        response = None  # the server answered and closed while we were still sending

    if response is not None:
        assert response.status_code == 413
        assert response.json()["code"] == "payload_too_large"
    assert sent < 10 * body_limit()  # it stopped reading at the cap, not at our end
    assert not InboundEvent.objects.exists()
