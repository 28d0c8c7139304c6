"""Hostile input at the receivers (issue 12): never a 500, never a 503 for what cannot clear.

Every request is authentic where that matters (signed with the account's real secret), so
what is tested is what the receiver does with the input after the signature holds.
"""

import base64
import hashlib
import hmac
import http.client
import json
import time

import pytest
from django.contrib.auth.hashers import make_password

from channels_app.commerce.models import Order
from channels_app.models import ChannelAccount, InboundEvent
from channels_app.platforms.flipkart.platform import body_hmac
from channels_app.platforms.selloship.platform import selloship_signature
from channels_app.platforms.shopify.platform import shopify_hmac
from channels_app.platforms.stripe.platform import stripe_signature
from channels_app.processing import inbound_event_process
from webhooks.signing import secret_generate, standard_signature
from webhooks.untrusted import MAX_DEPTH

pytestmark = pytest.mark.django_db

SECRET = "hostile-input-secret"
PASSWORD = "hostile-input-password"
SIGNED_PLATFORMS = ["qualia", "shopify", "stripe", "flipkart", "selloship", "acme"]
TOO_DEEP = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
LONE_SURROGATE = b'{"id": "evt_\\ud800", "type": "charge.refunded", "data": {"object": {}}}'


@pytest.fixture
def accounts(user):
    """One account per receiver, all keyed by SECRET (Qualia by PASSWORD)."""
    made = {}
    for platform, external_id in [("shopify", "shop.myshopify.com"), ("stripe", "acct"),
                                  ("flipkart", "fk-app"), ("selloship", "seller")]:  # fmt: skip
        made[platform] = ChannelAccount.objects.create(
            owner=user, platform=platform, name=platform, external_id=external_id, secret=SECRET
        )
    made["qualia"] = ChannelAccount.objects.create(
        owner=user, platform="qualia", name="qualia", external_id="acme",
        password_hash=make_password(PASSWORD),
    )  # fmt: skip
    made["acme"] = ChannelAccount.objects.create(
        owner=user, platform="acme", name="acme", external_id="acme-main", secret=SECRET,
        verification="hmac_sha256", signature_header="X-Acme-Signature",
    )  # fmt: skip
    return made


def signed(platform: str, body: bytes) -> tuple[str, dict]:
    """The path and Django META headers of a request `platform` authenticates."""
    hex_hmac = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    if platform == "qualia":
        token = base64.b64encode(f"acme:{PASSWORD}".encode()).decode()
        return "/webhook/activity", {"HTTP_AUTHORIZATION": f"Basic {token}"}
    if platform == "shopify":
        return "/webhooks/shopify", {
            "HTTP_X_SHOPIFY_HMAC_SHA256": shopify_hmac(SECRET, body),
            "HTTP_X_SHOPIFY_SHOP_DOMAIN": "shop.myshopify.com",
            "HTTP_X_SHOPIFY_TOPIC": "orders/create",
        }
    if platform == "stripe":
        at = int(time.time())
        signature = stripe_signature(SECRET, at, body)
        return "/webhooks/stripe", {"HTTP_STRIPE_SIGNATURE": f"t={at},v1={signature}"}
    if platform == "flipkart":
        return "/webhooks/flipkart", {"HTTP_X_FLIPKART_SIGNATURE": body_hmac(SECRET, body)}
    if platform == "selloship":
        return "/webhooks/selloship", {
            "HTTP_X_SELLOSHIP_ACCOUNT": "seller",
            "HTTP_X_SELLOSHIP_SIGNATURE": selloship_signature(SECRET, body),
        }
    return f"/webhooks/{platform}", {"HTTP_X_ACME_SIGNATURE": hex_hmac}


def post_signed(client, platform: str, body: bytes):
    path, headers = signed(platform, body)
    return client.post(path, body, content_type="application/json", **headers)


# --- Parsers that catch too little --------------------------------------------------------


@pytest.mark.parametrize("platform", SIGNED_PLATFORMS)
def test_json_nested_too_deep_is_400_from_every_receiver_and_stores_nothing(
    client, accounts, platform
):
    response = post_signed(client, platform, TOO_DEEP)

    assert response.status_code == 400
    assert "detail" in response.json()
    assert not InboundEvent.objects.exists()


def test_amazon_answers_400_to_json_too_deep_before_any_credentials(client):
    # SNS carries its signature in the body, so Amazon parses before it authenticates:
    # anyone can send this.
    response = client.post("/webhooks/amazon", TOO_DEEP, content_type="text/plain")

    assert response.status_code == 400
    assert response.json() == {
        "detail": f"Invalid JSON body: JSON nested deeper than {MAX_DEPTH} levels.",
        "code": "parse_error",
    }


def test_qualia_keeps_its_exact_400_body_for_json_too_deep(client, accounts):
    assert post_signed(client, "qualia", TOO_DEEP).json() == {"detail": "Invalid JSON body"}


@pytest.mark.parametrize("platform", SIGNED_PLATFORMS)
def test_a_lone_surrogate_in_a_signed_body_is_400_from_every_receiver(client, accounts, platform):
    response = post_signed(client, platform, LONE_SURROGATE)

    assert response.status_code == 400
    assert not InboundEvent.objects.exists()


def stored(account: ChannelAccount, body: bytes) -> InboundEvent:
    """A row as a receiver before this fix could have stored it."""
    return InboundEvent.objects.create(
        platform=account.platform, account=account, topic="t", external_id="e", body=body,
        headers={},
    )  # fmt: skip


@pytest.mark.parametrize(
    "body", [TOO_DEEP, LONE_SURROGATE, b"\xff not json"], ids=["deep", "surrogate", "not-utf-8"]
)
def test_a_stored_body_that_is_not_json_we_hold_never_breaks_the_list_or_the_admin(
    api, admin_client, accounts, body
):
    event = stored(accounts["stripe"], body)

    listing = api.get("/api/inbound-events")
    page = admin_client.get(f"/admin/channels_app/inboundevent/{event.pk}/change/")

    assert listing.status_code == 200
    assert listing.json()["results"][0]["summary"] == ""
    assert page.status_code == 200


# --- Integers and dates in headers --------------------------------------------------------


@pytest.mark.parametrize(
    "timestamp",
    ["\u00b2", "\u0661\u0667\u0660\u0660", "9" * 5_000],
    ids=["superscript", "arabic-indic", "5000-digits"],
)
def test_a_stripe_timestamp_int_cannot_read_is_401_not_500(client, accounts, timestamp):
    body = b'{"id": "evt_1", "type": "charge.refunded", "data": {"object": {}}}'
    response = client.post("/webhooks/stripe", body, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=f"t={timestamp},v1=00")  # fmt: skip

    assert response.status_code == 401
    assert "t=" in response.json()["detail"]


def test_a_standard_webhooks_timestamp_in_other_digits_is_401_even_when_signed(client, user):
    secret = secret_generate()
    ChannelAccount.objects.create(owner=user, platform="billing", name="b", external_id="b",
                           secret=secret, verification="standard_webhooks")  # fmt: skip
    body = b'{"type": "invoice.paid"}'
    at = int(time.time())
    # int() reads Arabic-Indic digits as this very time, so this used to verify.
    arabic = str(at).translate({ord(d): 0x0660 + int(d) for d in "0123456789"})

    response = client.post(
        "/webhooks/billing", body, content_type="application/json",
        HTTP_WEBHOOK_ID="msg_1", HTTP_WEBHOOK_TIMESTAMP=arabic,
        HTTP_WEBHOOK_SIGNATURE=standard_signature(secret, "msg_1", at, body),
    )  # fmt: skip

    assert response.status_code == 401
    assert not InboundEvent.objects.exists()


def test_a_flipkart_date_with_a_year_past_any_clock_is_401_not_500(client, accounts):
    response = client.post(
        "/webhooks/flipkart", b"{}", content_type="application/json",
        HTTP_X_DATE="Mon, 01 Jan 99999999999999999 00:00:00 GMT",
        HTTP_X_AUTHORIZATION="FKLOGIN " + base64.b64encode(b"fk-app:00").decode(),
    )  # fmt: skip

    assert response.status_code == 401


@pytest.mark.parametrize("length", ["\u00b2", "9" * 5_000], ids=["superscript", "5000-digits"])
def test_a_content_length_int_cannot_read_is_never_a_500(client, accounts, length):
    body = b'{"id": "evt_1", "type": "charge.refunded", "data": {"object": {}}}'
    path, headers = signed("stripe", body)

    response = client.post(path, body, content_type="application/json", CONTENT_LENGTH=length,
                           **headers)  # fmt: skip

    assert response.status_code in (400, 401, 413)


# --- Values PostgreSQL refuses ------------------------------------------------------------


def stripe_event(event_id: str) -> bytes:
    return json.dumps({"id": event_id, "type": "charge.refunded", "data": {"object": {}}}).encode()


def shopify_order(**changes) -> bytes:
    order = {"id": 1001, "name": "#1001", "updated_at": "2026-11-20T10:00:00-05:00",
             "total_price": "9.00", "currency": "USD", "line_items": [], **changes}  # fmt: skip
    return json.dumps(order).encode()


def test_a_nul_in_a_signed_event_id_is_422_not_503_and_stores_nothing(client, accounts):
    response = post_signed(client, "stripe", stripe_event("evt_\u0000"))

    assert response.status_code == 422  # a retry meets the same NUL: never "please retry"
    assert "NUL" in json.dumps(response.json())
    assert not InboundEvent.objects.exists()


def test_event_ids_longer_than_their_column_that_share_a_prefix_stay_two_events(client, accounts):
    prefix = "evt_" + "x" * 300
    first = post_signed(client, "stripe", stripe_event(prefix + "1"))
    second = post_signed(client, "stripe", stripe_event(prefix + "2"))

    assert [first.json()["status"], second.json()["status"]] == ["received", "received"]
    assert InboundEvent.objects.count() == 2


def test_an_offset_postgresql_refuses_is_stored_as_the_same_instant(client, accounts):
    body = shopify_order(updated_at="2026-11-20T10:00:00+23:00")
    assert post_signed(client, "shopify", body).status_code == 200

    inbound_event_process(event=InboundEvent.objects.get())

    assert InboundEvent.objects.get().status == InboundEvent.Status.PROCESSED
    assert Order.objects.get().remote_updated_at.isoformat() == "2026-11-19T11:00:00+00:00"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"name": "#" + "1" * 200}, "`name` is 201 characters long; at most 100 fit."),
        ({"email": "a\u0000b"}, "`email` holds a NUL character"),
    ],
)
def test_a_value_the_database_refuses_in_processing_fails_once_with_the_reason(
    client, accounts, changes, reason
):
    assert post_signed(client, "shopify", shopify_order(**changes)).status_code == 200
    event = InboundEvent.objects.get()

    inbound_event_process(event=event)  # recorded, not raised: no retry can clear it

    event.refresh_from_db()
    assert event.status == InboundEvent.Status.DEAD
    assert event.attempts == 1
    assert event.error.startswith(reason)  # the field is read before the database sees it
    assert not Order.objects.exists()


def test_a_stored_body_that_is_not_json_we_hold_fails_processing_once_with_the_reason(accounts):
    event = stored(accounts["stripe"], TOO_DEEP)

    inbound_event_process(event=event)

    event.refresh_from_db()
    assert (event.status, event.attempts) == (InboundEvent.Status.DEAD, 1)
    assert "nested deeper" in event.error


@pytest.mark.parametrize("query", [{"topic": "a\u0000b"}, {"platform": "\u0000"}])
def test_a_filter_value_the_database_refuses_is_422_not_500(api, query):
    response = api.get("/api/inbound-events", query)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_value"


@pytest.mark.parametrize("status", ["x\u0000", "nope"])
def test_a_status_filter_that_is_no_status_is_422_naming_it(api, status):
    response = api.get("/api/inbound-events", {"status": status})

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["status"]


def test_since_with_an_offset_postgresql_refuses_filters_on_the_same_instant(api, accounts):
    response = api.get("/api/inbound-events", {"since": "2026-11-20T10:00:00+23:00"})

    assert response.status_code == 200


def test_an_error_quoting_a_nul_or_a_lone_surrogate_is_still_recorded(
    client, accounts, monkeypatch
):
    from channels_app.platforms.shopify import handlers

    def broken(event, payload):
        raise ValueError("bad value 'a\x00b\ud800'")  # a message PostgreSQL cannot store

    monkeypatch.setitem(handlers.TOPICS, "orders/create", broken)
    assert post_signed(client, "shopify", shopify_order()).status_code == 200
    event = InboundEvent.objects.get()

    inbound_event_process(event=event)  # recorded, with its retry

    event.refresh_from_db()
    assert event.status == InboundEvent.Status.FAILED
    assert event.error == "ValueError: bad value 'a\\x00b\\ud800'"


# --- Ambiguous headers --------------------------------------------------------------------


def shopify_post(client, body: bytes, path: str = "/webhooks/shopify", **headers):
    return client.post(
        path, body, content_type="application/json",
        HTTP_X_SHOPIFY_SHOP_DOMAIN="shop.myshopify.com",
        HTTP_X_SHOPIFY_HMAC_SHA256=shopify_hmac(SECRET, body), **headers,
    )  # fmt: skip


def processed_alone() -> InboundEvent:
    event = InboundEvent.objects.get()
    inbound_event_process(event=event)  # recorded, not raised: no retry can route it
    event.refresh_from_db()
    return event


def test_a_repeated_shopify_topic_is_stored_and_failed_with_the_reason(client, accounts):
    # What a WSGI server makes of two X-Shopify-Topic headers.
    response = shopify_post(client, shopify_order(),
                            HTTP_X_SHOPIFY_TOPIC="orders/create,orders/create")  # fmt: skip

    assert response.status_code == 200  # stored: Shopify must not resend it forever
    event = processed_alone()
    assert (event.status, event.attempts) == (InboundEvent.Status.DEAD, 1)
    assert event.error == (
        "X-Shopify-Topic was sent more than once ('orders/create,orders/create'): "
        "which one is meant?"
    )
    assert not Order.objects.exists()


def test_a_missing_shopify_topic_is_stored_and_failed_with_the_reason(client, accounts):
    assert shopify_post(client, shopify_order()).status_code == 200

    event = processed_alone()
    assert event.status == InboundEvent.Status.DEAD
    assert "X-Shopify-Topic header is missing" in event.error


def test_a_shopify_topic_in_the_url_alone_still_routes(client, accounts):
    assert (
        shopify_post(client, shopify_order(), "/webhooks/shopify/orders/create").status_code == 200
    )

    assert processed_alone().status == InboundEvent.Status.PROCESSED
    assert Order.objects.get().name == "#1001"


def test_an_unroutable_event_stays_failed_when_reprocessed(client, accounts, api):
    shopify_post(client, shopify_order())
    processed_alone()

    reprocess = api.post("/api/inbound-events/reprocess", {"status": "dead"}, format="json")
    assert reprocess.status_code == 202
    event = processed_alone()

    assert event.status == InboundEvent.Status.DEAD  # never turned into "ignored"
    assert event.attempts == 2


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_two_topic_headers_through_the_real_server_fail_the_event_visibly(live_app, accounts, api):
    body = shopify_order()
    connection = http.client.HTTPConnection(live_app.removeprefix("http://"), timeout=10)
    connection.putrequest("POST", "/webhooks/shopify")
    for name, value in [("X-Shopify-Topic", "orders/create"), ("X-Shopify-Topic", "orders/paid"),
                        ("X-Shopify-Shop-Domain", "shop.myshopify.com"),
                        ("X-Shopify-Hmac-Sha256", shopify_hmac(SECRET, body)),
                        ("Content-Type", "application/json"),
                        ("Content-Length", str(len(body)))]:  # fmt: skip
        connection.putheader(name, value)
    connection.endheaders(body)
    response = connection.getresponse()
    connection.close()

    assert response.status == 200
    event = processed_alone()
    assert event.topic == "orders/create,orders/paid"
    listed = api.get("/api/inbound-events", {"status": "dead"}).json()["results"]
    assert [(row["id"], row["error"]) for row in listed] == [(event.pk, event.error)]
    assert "more than once" in event.error
