"""Properties of every receiver (hypothesis): whatever arrives, the answer is documented and the
stored row ends somewhere honest.

Requests are built from each platform's fixtures and then broken: any field replaced by any
JSON value (null, booleans, huge numbers, NUL, lone surrogates, objects, lists) or removed,
the whole body replaced by other JSON or by bytes, nested past the limit or made wide, headers
repeated or missing. Most are signed with the account's real secret, so they get past
authentication. For each one:

- the answer is 200, 400, 401, 413 or 422 (never a 500; 503 only with the database down, in
  the server tests at the end);
- a refusal stores nothing; a 200 stores exactly the bytes received;
- the stored row, processed as the worker does, ends processed or ignored with projections
  holding no `str()` of a value that was not text and no NUL, or dead with its reason, having
  written nothing (never `failed`, a retry that would meet the same payload again).

Each example runs in a savepoint rolled back at its end, so examples do not see each other.
"""

import base64
import contextlib
import copy
import json
from pathlib import Path

import hypothesis
import pytest
import requests
from django.db import models, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_app.commerce.models import Fulfillment, LineItem, Order, Refund, Shipment
from channels_app.models import InboundEvent
from channels_app.platforms.amazon.models import ProcessingReport
from channels_app.platforms.amazon.tests import conftest as amazon_fixtures
from channels_app.platforms.amazon.tests.case import sign, sns_message
from channels_app.platforms.amazon.verify import timestamp_check
from channels_app.platforms.base import Unauthorized
from channels_app.platforms.flipkart.platform import _date_is_fresh, parse_authorization
from channels_app.platforms.qualia.models import Activity
from channels_app.platforms.qualia.verify import basic_credentials
from channels_app.platforms.shopify.models import InventoryLevel, Product, Store, Variant
from channels_app.platforms.shopify.platform import topic_problem
from channels_app.platforms.stripe.models import Payment
from channels_app.platforms.stripe.platform import parse_header
from channels_app.processing import inbound_event_process
from channels_app.tests import test_hostile_input
from channels_app.tests.test_hostile_input import signed
from conftest import child_env, database_url_for_children, start_web_server
from webhooks.models import Event
from webhooks.tests.test_untrusted_properties import edge_text, json_values
from webhooks.untrusted import MAX_DEPTH

pytestmark = pytest.mark.django_db

# Fixtures of other modules, used here as they are there.
accounts = test_hostile_input.accounts  # an account per receiver, all keyed by SECRET
keys, sns, amazon_account = amazon_fixtures.keys, amazon_fixtures.sns, amazon_fixtures.account
loopback_sns = amazon_fixtures.loopback_sns  # autouse there, so here too: SNS on 127.0.0.1

PLATFORMS = Path(__file__).resolve().parents[1] / "platforms"
RECEIVERS = ["qualia", "shopify", "stripe", "flipkart", "selloship", "acme"]
DOCUMENTED = {200, 400, 401, 413, 422}
PROJECTIONS = [Activity, Order, LineItem, Payment, Shipment, Product, Variant, InventoryLevel,
               Refund, Fulfillment, ProcessingReport, Store]  # fmt: skip
# Every example shares the test's fixtures (accounts, settings) and rolls its own writes back.
receiver_settings = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def fixture_payloads(platform: str) -> list[tuple[str, dict]]:
    """(topic, payload) for each of the platform's fixtures; the topic is Shopify's."""
    found = []
    for path in sorted((PLATFORMS / platform / "fixtures").glob("*.json")):
        if not path.name.startswith("sns_"):
            topic = "/".join(path.stem.rsplit("_", 1))  # orders_create -> orders/create
            found.append((topic, json.loads(path.read_text())))
    return found


PAYLOADS = {platform: fixture_payloads(platform) for platform in
            ["qualia", "shopify", "stripe", "flipkart", "selloship"]}  # fmt: skip
PAYLOADS["acme"] = [("", {"type": "invoice.paid", "id": "inv_1", "data": {"amount": 5}})]
# Bodies that broke parsers once: past int()'s digit limit, past a float, not JSON at all.
RAW_BODIES = [b'{"id": ' + b"9" * 5_000 + b"}", b'{"id": 1e999}', b'{"a": NaN}', b"",
              b"\xff{}", b'{"id": "\\ud800"}', b"[" * 100_000 + b"]" * 100_000,
              b'"just a string"']  # fmt: skip


def paths_in(value, prefix=()):
    """Every path to a value inside `value`, itself included."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths_in(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from paths_in(child, (*prefix, index))


@st.composite
def broken(draw, payload: dict, values=json_values):
    """`payload` with one to three values replaced by any JSON value, or removed."""
    payload = copy.deepcopy(payload)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from([p for p in paths_in(payload) if p]))
        parent = payload
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(values)
    return payload


def encoded(draw, value) -> bytes:
    # Unescaped, a lone surrogate becomes bytes that are not UTF-8 (as a careless sender's).
    text = json.dumps(value, ensure_ascii=draw(st.booleans()))
    return text.encode("utf-8", "surrogatepass")


@st.composite
def bodies(draw, payload: dict, values=json_values) -> bytes:
    kind = draw(st.sampled_from(["broken"] * 6 + ["other", "bytes", "raw", "deep", "wide"]))
    if kind == "broken":
        return encoded(draw, draw(broken(payload, values)))
    if kind == "other":
        return encoded(draw, draw(json_values))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "raw":
        return draw(st.sampled_from(RAW_BODIES))
    if kind == "deep":
        levels = draw(st.integers(min_value=MAX_DEPTH - 3, max_value=MAX_DEPTH + 3))
        return json.dumps({**payload, "deep": json.loads("[" * levels + "]" * levels)}).encode()
    wide = {f"k{index}": index for index in range(draw(st.integers(0, 20_000)))}
    return json.dumps({**payload, **wide}).encode()


header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=120)


@st.composite
def headers_changed(draw, headers: dict) -> dict:
    """Mostly as signed; else one header repeated (as WSGI joins it), replaced or missing."""
    headers = dict(headers)
    name = draw(st.sampled_from(sorted(headers)))
    change = draw(st.sampled_from(["none"] * 8 + ["repeat", "replace", "remove"]))
    if change == "repeat":
        headers[name] = f"{headers[name]},{draw(st.sampled_from([headers[name], 'x']))}"
    elif change == "replace":
        headers[name] = draw(header_text)
    elif change == "remove":
        del headers[name]
    return headers


@st.composite
def receiver_requests(draw, platform: str, *, change_headers: bool = True):
    """(path, body, META headers) of a request to `platform`, signed for its body."""
    topic, payload = draw(st.sampled_from(PAYLOADS[platform]))
    body = draw(bodies(payload))
    path, headers = signed(platform, body)
    if platform == "shopify":
        headers["HTTP_X_SHOPIFY_TOPIC"] = topic
        headers["HTTP_X_SHOPIFY_WEBHOOK_ID"] = draw(st.uuids()).hex
        if draw(st.booleans()):
            path = f"{path}/{draw(st.sampled_from([topic, 'orders/updated']))}"
    return path, body, draw(headers_changed(headers)) if change_headers else headers


def junk_in_projections(body: bytes) -> list[str]:
    """Projection text that is the str() of a JSON value that was not text, or holds a NUL."""
    sent = json.loads(body.decode("utf-8", "surrogatepass"))
    texts, others = set(), set()
    for path in paths_in(sent):
        value = sent
        for step in path:
            value = value[step]
        if isinstance(value, str):
            texts.add(value.lower())
        elif type(value) is not int:  # an id sent as a number is read as its digits
            others.add(str(value).lower())
        if isinstance(value, dict):
            texts.update(key.lower() for key in value)
    found = []
    for model in PROJECTIONS:
        text_fields = [f for f in model._meta.concrete_fields
                       if isinstance(f, models.CharField | models.TextField)]  # fmt: skip
        for row in model.objects.all():
            for field in text_fields:
                value = getattr(row, field.attname)
                cut = {junk[: field.max_length] for junk in others} if field.max_length else set()
                if "\x00" in value or (value.lower() in (others | cut) - texts):
                    found.append(f"{model.__name__}.{field.name} = {value!r}")
    return found


def projected_anything() -> bool:
    return Event.objects.exists() or any(model.objects.exists() for model in PROJECTIONS)


def assert_honest(response, body: bytes) -> None:
    assert response.status_code in DOCUMENTED, (response.status_code, response.content)
    rows = list(InboundEvent.objects.all())
    if response.status_code != 200:
        hypothesis.event(str(response.status_code))  # --hypothesis-show-statistics counts them
        assert rows == [], "a refused request stored a row"
        return
    assert len(rows) == 1
    event = rows[0]
    assert bytes(event.body) == body  # stored whole, never half
    inbound_event_process(event=event)
    event.refresh_from_db()
    hypothesis.event(f"200 {event.status}")
    if event.status == InboundEvent.Status.DEAD:
        assert event.error
        assert not projected_anything(), "a failed event left projections behind"
        return
    assert event.status in (InboundEvent.Status.PROCESSED, InboundEvent.Status.IGNORED), (
        event.status, event.error)  # fmt: skip
    assert junk_in_projections(body) == []


@contextlib.contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture
def unlimited(settings):
    settings.INBOUND_RATE_LIMIT_PER_MINUTE = 10**9  # hundreds of examples in a minute


@pytest.mark.parametrize("platform", RECEIVERS)
@receiver_settings
@given(data=st.data())
def test_types_trusted_after_the_signature_every_receiver_answers_and_ends_honestly(
    client, accounts, unlimited, platform, data
):
    path, body, headers = data.draw(receiver_requests(platform))

    with rolled_back():
        response = client.post(path, body, content_type="application/json", **headers)
        assert_honest(response, body)


# What PostgreSQL refuses: NUL in text and in jsonb, offsets past ±15:59, numbers past bigint
# and numeric(14, 2), text past its column.
postgresql_refuses = st.one_of(
    st.sampled_from(
        [
            "a\x00b",
            "\x00",
            "2026-11-20T10:00:00+23:00",
            "9999-12-31T23:59:59-23:59",
            "9" * 13 + ".00",
            "x" * 256,
            "1e20",
        ]
    ),
    st.sampled_from([2**63, -(2**63) - 1, 2**31, 10**20, 1e300]),
)


@pytest.mark.parametrize("platform", RECEIVERS)
@receiver_settings
@given(data=st.data())
def test_values_postgresql_refuses_in_any_signed_field_are_422_or_a_dead_row(
    client, accounts, unlimited, platform, data
):
    topic, payload = data.draw(st.sampled_from(PAYLOADS[platform]))
    body = json.dumps(data.draw(broken(payload, postgresql_refuses))).encode()
    path, headers = signed(platform, body)
    headers.pop("HTTP_X_SHOPIFY_TOPIC", None)

    with rolled_back():
        response = client.post(path if platform != "shopify" else f"{path}/{topic}", body,
                               content_type="application/json", **headers)  # fmt: skip
        assert_honest(response, body)


@receiver_settings
@given(data=st.data())
def test_ambiguous_headers_any_shopify_topic_headers_store_a_row_that_ends_honestly(
    client, accounts, unlimited, data
):
    topic, payload = data.draw(st.sampled_from(PAYLOADS["shopify"]))
    body = json.dumps(payload).encode()
    path, headers = signed("shopify", body)
    topics = st.sampled_from([topic, "orders/updated", "", f"{topic},{topic}", "x" * 150])
    header, in_url = data.draw(st.one_of(topics, header_text)), data.draw(topics)
    headers["HTTP_X_SHOPIFY_TOPIC"] = header
    if not header:
        del headers["HTTP_X_SHOPIFY_TOPIC"]

    with rolled_back():
        response = client.post(f"{path}/{in_url}" if in_url else path, body,
                               content_type="application/json", **headers)  # fmt: skip
        assert response.status_code == 200  # signed: stored whatever the topic says
        assert_honest(response, body)
        event = InboundEvent.objects.get()
        if topic_problem(in_url or header, header):
            assert event.status == InboundEvent.Status.DEAD


@receiver_settings
@given(data=st.data())
def test_types_trusted_after_the_signature_amazon_answers_and_ends_honestly(
    client, amazon_account, sns, keys, unlimited, data
):
    _, notification = data.draw(st.sampled_from(fixture_payloads("amazon")))
    message = data.draw(st.one_of(broken(notification), json_values, edge_text))
    envelope = sns_message(sns, keys, message=message if isinstance(message, dict | str) else
                           json.dumps(message))  # fmt: skip
    if data.draw(st.booleans()):  # the envelope itself broken, and signed as it is
        name = data.draw(st.sampled_from(["Message", "MessageId", "Subject", "UnsubscribeURL"]))
        envelope = sign({**envelope, name: data.draw(json_values)}, keys.signing_key)
    body = json.dumps(envelope).encode()

    with rolled_back():
        response = client.post("/webhooks/amazon", body, content_type="text/plain")
        assert_honest(response, body)


# --- Parsers of headers and times ---------------------------------------------------------


def refuses_only_with(error, parse, *args) -> None:
    with contextlib.suppress(error):
        parse(*args)


@given(st.one_of(header_text, edge_text))
def test_parsers_that_catch_too_little_every_header_parser_refuses_with_its_own_error(text):
    refuses_only_with(Unauthorized, parse_header, text)
    refuses_only_with(Unauthorized, parse_authorization, text)
    refuses_only_with(Unauthorized, basic_credentials, text)
    refuses_only_with(Unauthorized, basic_credentials, "Basic " + text)
    encoded_text = base64.b64encode(text.encode("utf-8", "surrogatepass")).decode()
    refuses_only_with(Unauthorized, basic_credentials, "Basic " + encoded_text)
    refuses_only_with(Unauthorized, parse_authorization, "FKLOGIN " + encoded_text)
    assert _date_is_fresh(text) in (True, False)


@given(st.one_of(json_values, st.datetimes().map(lambda at: at.isoformat() + "Z")))
def test_parsers_that_catch_too_little_an_sns_timestamp_of_anything_is_checked_or_refused(
    value,
):
    refuses_only_with(Unauthorized, timestamp_check, {"Timestamp": value})


@given(st.integers(min_value=0, max_value=10**25))
def test_a_stripe_signature_header_reads_back_the_time_it_was_given_or_refuses(at):
    header = f"t={at},v1=abc,v1=def"

    try:
        timestamp, signatures = parse_header(header)
    except Unauthorized:
        assert len(str(at)) > 18
    else:
        assert (timestamp, signatures) == (at, ["abc", "def"])


# --- Through the real server --------------------------------------------------------------


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    """One gunicorn for the module, on the test database."""
    handle, base_url = start_web_server(
        child_env(DATABASE_URL=database_url_for_children(),
                  INBOUND_RATE_LIMIT_PER_MINUTE=str(10**9)),
        tmp_path_factory.mktemp("properties") / "web.log",
    )  # fmt: skip
    yield base_url
    handle.stop()


def on_the_wire(meta: dict) -> dict:
    """Django META headers as a client sends them (a server strips the value's ends)."""
    return {name.removeprefix("HTTP_").replace("_", "-"): value.strip()
            for name, value in meta.items()}  # fmt: skip


def chunks(body: bytes, sizes: list[int]):
    """`body` in chunks of the given sizes, cycled: requests sends a generator chunked."""
    start, index = 0, 0
    while start < len(body):
        size = sizes[index % len(sizes)]
        yield body[start : start + size]
        start, index = start + size, index + 1


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
@settings(receiver_settings, max_examples=25)
@given(data=st.data())
def test_chunked_bodies_of_any_split_are_stored_byte_for_byte_or_refused(server, accounts, data):
    _, payload = data.draw(st.sampled_from(PAYLOADS["shopify"]))
    body = data.draw(st.one_of(bodies(payload), st.binary(max_size=70_000)))
    sizes = data.draw(st.lists(st.integers(min_value=1, max_value=70_000), min_size=1, max_size=5))
    path, meta = signed("shopify", body)
    headers = on_the_wire(meta)
    headers["X-Shopify-Webhook-Id"] = data.draw(st.uuids()).hex
    headers["Content-Type"] = "application/json"

    try:
        response = requests.post(f"{server}{path}", data=chunks(body, sizes), headers=headers,
                                 timeout=10)  # fmt: skip
        hypothesis.event(str(response.status_code))
        assert response.status_code in DOCUMENTED, response.text
        stored = [bytes(event.body) for event in InboundEvent.objects.all()]
        assert stored == ([body] if response.status_code == 200 else [])
    finally:
        InboundEvent.objects.all().delete()


@pytest.mark.server
@pytest.mark.parametrize("platform", RECEIVERS)
@settings(receiver_settings, max_examples=15)
@given(data=st.data())
def test_with_the_database_unreachable_every_receiver_answers_503_or_refuses_before_it(
    database_down, platform, data
):
    as_signed = data.draw(st.booleans())
    path, body, headers = data.draw(receiver_requests(platform, change_headers=not as_signed))
    headers = {**on_the_wire(headers), "Content-Type": "application/json"}

    response = requests.post(f"{database_down}{path}", data=body, headers=headers, timeout=10)

    hypothesis.event(str(response.status_code))
    # Never 200: nothing can be stored. Credentials are checked against the database before
    # the body is read, so a signed request is 503 whatever its body; only what is refused
    # before the database is looked at (a missing or malformed credential) keeps its 401.
    assert response.status_code in ({503} if as_signed else {401, 503}), response.text


@pytest.fixture(scope="module")
def database_down(tmp_path_factory):
    handle, base_url = start_web_server(
        child_env(DATABASE_URL="postgres://postgres@127.0.0.1:9/nowhere",
                  INBOUND_RATE_LIMIT_PER_MINUTE=str(10**9)),
        tmp_path_factory.mktemp("database-down") / "web.log",
    )  # fmt: skip
    yield base_url
    handle.stop()
