"""Every operation in the OpenAPI schema, exercised with real requests, and every answer checked
against the schema by openapi-core: its status is documented for that operation and its body
matches the documented schema.

The operations come from the schema itself, so a new endpoint without a scenario here fails.
Each operation is called to succeed, and to fail in every way any client can make it fail
(`provoke_errors`, the same for all) and in the ways only it can (its scenario): every status it
documents must be among the answers, except 503, which needs the database gone
(config/tests/test_api_hostile.py proves that one).
"""

import json
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse
from rest_framework.test import APIClient

from channels_app.models import ChannelAccount, InboundEvent, ProducedEvent
from channels_app.platforms.qualia.models import Activity, Message
from channels_app.platforms.shopify.tests.test_shopify_registration import (
    API_VERSION,
    BASE_URL,
    SHOP,
    TOKEN,
    FakeShopifyAdmin,
)
from conftest import client_for, free_port
from subscriptions.models import Delivery
from subscriptions.services import subscription_create
from subscriptions.tests.receiver import Receiver
from webhooks.models import ApiToken
from webhooks.services import api_token_create, event_publish

pytestmark = pytest.mark.django_db

# Plain JSON, as a client downloads it (no lazy translation strings).
SCHEMA = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True)))
OPENAPI = OpenAPI.from_dict(SCHEMA)
METHODS = {"get", "post", "put", "patch", "delete"}
OPERATIONS = {
    operation["operationId"]: (method.upper(), path, operation)
    for path, item in SCHEMA["paths"].items()
    for method, operation in item.items()
    if method in METHODS
}
NOT_PROVOKED = {"503"}


class OperationRequest(DjangoOpenAPIRequest):
    """The request, validated as a call of the operation the scenario exercises (Django's
    route names a path parameter `pk` where the schema says `id`)."""

    def __init__(self, request, path_pattern: str):
        super().__init__(request)
        self._path_pattern = path_pattern

    @property
    def path_pattern(self) -> str:
        return self._path_pattern


class Operation:
    """Calls one operation and checks every answer against the schema."""

    def __init__(self, operation_id: str, world: "World"):
        self.method, self.template, self.spec = OPERATIONS[operation_id]
        self.world = world
        self.statuses: set[str] = set()
        self.path: dict = {}  # the path parameters of a call that succeeds

    @property
    def has_body(self) -> bool:
        return "requestBody" in self.spec

    def documented(self) -> set[str]:
        return set(self.spec["responses"])

    def parameters(self, where: str) -> list[dict]:
        return [p for p in self.spec.get("parameters", []) if p["in"] == where]

    def call(
        self,
        *,
        path=None,
        query=None,
        body=None,
        raw=None,
        client=None,
        content_type=None,
        limits=None,
        **meta,
    ):
        """One request; `limits` are settings that hold while the server answers it."""
        url = self.template.format(**{k: quote(str(v), safe="") for k, v in (path or {}).items()})
        if query:
            url += "?" + urlencode(query, doseq=True)
        data = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
        with override_settings(**(limits or {})):
            response = (client or self.world.api).generic(
                self.method, url, data, content_type or "application/json", **meta
            )
        OPENAPI.validate_response(
            OperationRequest(response.wsgi_request, self.template), DjangoOpenAPIResponse(response)
        )
        self.statuses.add(str(response.status_code))
        return response


def invalid_value(schema: dict) -> str:
    """A value of a parameter documented by `schema` that the API must refuse with 422."""
    if "enum" in schema:
        return "not-one-of-them"
    if schema.get("type") == "integer":
        return "0" if schema.get("minimum", 0) >= 1 else "not-a-number"
    if schema.get("format") == "date-time":
        return "2026-02-30T10:00:00Z"
    return "nul\x00byte"  # the database cannot hold it, whatever the column


def provoke_errors(operation: Operation) -> None:
    """The errors any client can cause, each where the operation's inputs allow it: an answer
    whose status the operation does not document fails validation in `call`."""
    world, path = operation.world, operation.path
    unsafe = operation.method != "GET"

    def expect(status: int, response, why: str) -> None:
        assert response.status_code == status, (why, response.status_code, response.content)

    fields = {"DATA_UPLOAD_MAX_NUMBER_FIELDS": 2}
    answer = operation.call(path=path, query={"a": 1, "b": 2, "c": 3}, limits=fields)
    expect(400, answer, "too many query parameters")
    expect(401, operation.call(path=path, client=APIClient()), "no credentials")
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Bearer whk_wrong")
    expect(401, operation.call(path=path, client=wrong), "a wrong token")
    if unsafe:
        session = APIClient(enforce_csrf_checks=True)
        session.force_login(world.user)
        expect(403, operation.call(path=path, client=session), "a session without CSRF token")
    if operation.parameters("path"):
        missing = {
            p["name"]: 2**31 - 1 if p["schema"]["type"] == "integer" else "missing"
            for p in operation.parameters("path")
        }
        answer = operation.call(path=missing)
        expect(404 if "404" in operation.documented() else 200, answer, f"nothing at {missing}")
    expect(406, operation.call(path=path, HTTP_ACCEPT="application/xml"), "Accept: xml")
    if operation.has_body:
        expect(400, operation.call(path=path, raw=b'{"name": '), "a body that is not JSON")
        size = {"DATA_UPLOAD_MAX_MEMORY_SIZE": 10}
        answer = operation.call(path=path, body={"name": "over ten bytes"}, limits=size)
        expect(413, answer, "a body over the limit")
        answer = operation.call(path=path, raw=b"name=x", content_type="text/plain")
        expect(415, answer, "a text/plain body")
        expect(422, operation.call(path=path, body=["a list"]), "a body that is a list")
    for parameter in operation.parameters("query"):
        value = invalid_value(parameter["schema"])
        answer = operation.call(path=path, query={parameter["name"]: value})
        expect(422, answer, f"{parameter['name']}={value!r}")
    for parameter in operation.parameters("path"):
        if parameter["schema"]["type"] == "string":
            answer = operation.call(path={**path, parameter["name"]: "nul\x00byte"})
            expect(422, answer, f"a NUL in {parameter['name']}")


class World:
    """One user's rows of every kind the API shows; local fakes started by the scenarios that
    need them (and stopped by the fixture)."""

    def __init__(self, user, settings):
        self.user, self.settings = user, settings
        self.api = client_for(user)
        self.stops = []
        # A closed port on loopback: nothing in these tests may reach another machine.
        self.subscription = subscription_create(
            owner=user, url=f"http://127.0.0.1:{free_port()}/hook", event_types=["task.*"],
            timeout_seconds=2,
        )  # fmt: skip
        self.event = event_publish(owner=user, event_type="task.created", data={"n": 1}).event
        self.other_event = event_publish(owner=user, event_type="task.updated", data={"n": 2}).event
        self.delivery = Delivery.objects.filter(event=self.event).get()
        self.shop = ChannelAccount.objects.create(
            owner=user, platform="shopify", name="Example", external_id=SHOP,
            api_token=TOKEN, secret="shpss_client_secret",
        )  # fmt: skip
        self.qualia = ChannelAccount.objects.create(
            owner=user, platform="qualia", name="Acme", external_id="acme",
            password_hash="!", api_token="qualia-api-token",
        )  # fmt: skip
        self.inbound = InboundEvent.objects.create(
            platform="shopify", account=self.shop, topic="orders/create", external_id="e1",
            body=b'{"id": 1, "total": "9.99"}', headers={},
        )  # fmt: skip
        ProducedEvent.objects.create(inbound_event=self.inbound, event=self.event)  # lineage
        now = timezone.now()
        Activity.objects.create(
            account=self.qualia, order_id="order-1", activity_type="message",
            description="A message", message_id="m1", timestamp_ms=1, received_at=now,
        )  # fmt: skip
        Message.objects.create(
            account=self.qualia, order_id="order-1", message_id="m1", from_name="Marty",
            text="Can you expedite?", created_date=now, attachments=[{"name": "deed.pdf"}],
        )  # fmt: skip
        self.token, _ = api_token_create(user=user, name="to revoke")

    def receiver(self) -> Receiver:
        receiver = Receiver().start()
        self.stops.append(receiver.stop)
        return receiver

    def shopify(self) -> FakeShopifyAdmin:
        fake = FakeShopifyAdmin()
        self.stops.append(lambda: (fake.server.shutdown(), fake.server.server_close()))
        self.settings.SHOPIFY_ADMIN_URL_TEMPLATE = fake.url_template
        self.settings.SHOPIFY_API_VERSION = API_VERSION
        self.settings.WEBHOOK_BASE_URL = BASE_URL
        return fake


def user_named(name: str):
    return get_user_model().objects.create_user(username=name)  # no password: nothing to hash


@pytest.fixture
def world(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True  # the receiver and the fakes are on loopback
    world = World(user_named("alice"), settings)
    yield world
    for stop in world.stops:
        stop()


# --- Scenarios: each operation's successes, and the errors only it can cause ------------------
# Each is named after its operationId, and sets `op.path` to path parameters that succeed.
SCENARIOS = {}


def scenario(function):
    SCENARIOS[function.__name__] = function
    return function


def cursor_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["cursor"][0]


SUBSCRIPTION = {"url": "https://example.com/hook", "event_types": ["task.*"]}
WINDOW = {"since": "2020-01-01T00:00:00Z"}


@scenario
def channels_list(op, w):
    first = op.call(query={"limit": 1}).json()
    assert len(first["results"]) == 1
    assert op.call(query={"cursor": cursor_of(first["next"])}).status_code == 200


@scenario
def channels_create(op, w):
    created = op.call(body={"platform": "stripe", "name": "S", "external_id": "acct_1",
                            "secret": "whsec_x"})  # fmt: skip
    assert created.status_code == 201, created.content
    assert op.call(body={"platform": "Not a name!", "external_id": "x"}).status_code == 422


@scenario
def channels_retrieve(op, w):
    op.path = {"id": w.shop.pk}
    assert op.call(path=op.path).status_code == 200
    assert op.call(path=op.path, client=client_for(user_named("bob"))).status_code == 404


@scenario
def channels_partial_update(op, w):
    op.path = {"id": w.shop.pk}
    assert op.call(path=op.path, body={"name": "Renamed"}).json()["name"] == "Renamed"


@scenario
def channels_destroy(op, w):
    op.path = {"id": w.qualia.pk}
    provoke_errors(op)
    assert op.call(path=op.path).status_code == 204


@scenario
def events_list(op, w):
    assert len(op.call().json()["results"]) == 2
    listed = op.call(query={"event_type": "task.created", "since": "2020-01-01T00:00:00Z"})
    assert [e["id"] for e in listed.json()["results"]] == [w.event.public_id]


@scenario
def events_create(op, w):
    body = {"event_type": "task.created", "data": {"n": 3}, "idempotency_key": "k1"}
    assert op.call(body=body).status_code == 202
    assert op.call(body=body).json()["duplicate"] is True
    assert op.call(body={"event_type": "no.such.type", "data": {}}).status_code == 422


@scenario
def events_retrieve(op, w):
    op.path = {"public_id": w.event.public_id}
    answer = op.call(path=op.path).json()
    assert answer["deliveries"][0]["id"] == w.delivery.pk
    assert answer["caused_by"]["id"] == w.inbound.pk
    assert op.call(path={"public_id": w.other_event.public_id}).json()["caused_by"] is None


@scenario
def inbound_events_list(op, w):
    listed = op.call(query={"platform": "shopify", "status": "received"}).json()["results"]
    assert listed[0]["summary"] == "id=1, total=9.99"


@scenario
def inbound_events_retrieve(op, w):
    op.path = {"id": w.inbound.pk}
    [event] = op.call(path=op.path).json()["events"]
    assert event["deliveries"][0]["id"] == w.delivery.pk


@scenario
def inbound_events_reprocess_create(op, w):
    InboundEvent.objects.filter(pk=w.inbound.pk).update(status=InboundEvent.Status.DEAD)
    assert op.call(body={"ids": [w.inbound.pk]}).json() == {"requeued": 1}
    assert op.call(body={}).status_code == 422


@scenario
def portal_links_create(op, w):
    assert op.call().status_code == 201
    w.user.is_staff = True
    w.user.save()
    assert op.call().status_code == 403


@scenario
def qualia_orders_activities_list(op, w):
    op.path = {"order_id": "order-1"}
    assert len(op.call(path=op.path, query={"type": "message"}).json()) == 1
    assert op.call(path={"order_id": "no-such-order"}).json() == []


@scenario
def qualia_orders_messages_list(op, w):
    op.path = {"order_id": "order-1"}
    assert op.call(path=op.path).json()[0]["message_id"] == "m1"


@scenario
def tokens_list(op, w):
    assert len(op.call().json()) == 2


@scenario
def tokens_create(op, w):
    assert op.call(body={"name": "ci"}).json()["token"].startswith("whk_")
    assert op.call(body={}).status_code == 422


@scenario
def tokens_destroy(op, w):
    op.path = {"id": w.token.pk}
    provoke_errors(op)
    assert op.call(path=op.path).status_code == 204
    assert not ApiToken.objects.filter(pk=w.token.pk).exists()


@scenario
def webhooks_list(op, w):
    assert op.call().json()["results"][0]["id"] == w.subscription.pk


@scenario
def webhooks_create(op, w):
    assert op.call(body=SUBSCRIPTION).json()["secret"].startswith("whsec_")
    assert op.call(body={**SUBSCRIPTION, "timeout_seconds": 61}).status_code == 422


@scenario
def webhooks_retrieve(op, w):
    op.path = {"id": w.subscription.pk}
    assert op.call(path=op.path).json()["url"] == w.subscription.url


@scenario
def webhooks_partial_update(op, w):
    op.path = {"id": w.subscription.pk}
    assert op.call(path=op.path, body={"description": "d"}).json()["description"] == "d"


@scenario
def webhooks_destroy(op, w):
    op.path = {"id": w.subscription.pk}
    provoke_errors(op)
    assert op.call(path=op.path).status_code == 204


@scenario
def webhooks_deliveries_list(op, w):
    op.path = {"id": w.subscription.pk}
    query = {"status": "pending", "event_type": "task.created", "since": "2020-01-01T00:00:00Z"}
    assert op.call(path=op.path, query=query).json()["results"][0]["id"] == w.delivery.pk


@scenario
def webhooks_deliveries_retrieve(op, w):
    op.path = {"id": w.subscription.pk, "delivery_id": w.delivery.pk}
    assert op.call(path=op.path).json()["payload"] == {"n": 1}


@scenario
def webhooks_deliveries_retry_create(op, w):
    op.path = {"id": w.subscription.pk, "delivery_id": w.delivery.pk}
    assert op.call(path=op.path).status_code == 202


@scenario
def webhooks_recover_create(op, w):
    op.path = {"id": w.subscription.pk}
    assert op.call(path=op.path, body=WINDOW).json() == {"requeued": 0}


@scenario
def webhooks_replay_missing_create(op, w):
    op.path = {"id": w.subscription.pk}
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert op.call(path=op.path, body={"since": since}).json() == {"queued": 0}
    assert op.call(path=op.path, body=WINDOW).status_code == 422  # over 30 days


@scenario
def webhooks_rotate_secret_create(op, w):
    op.path = {"id": w.subscription.pk}
    assert op.call(path=op.path).json()["secret"].startswith("whsec_")


@scenario
def webhooks_stats_retrieve(op, w):
    op.path = {"id": w.subscription.pk}
    assert op.call(path=op.path).json()["total"] == 2


@scenario
def webhooks_test_create(op, w):
    op.path = {"id": w.subscription.pk}
    answer = op.call(path=op.path).json()
    assert (answer["success"], answer["status_code"]) == (False, None)  # nothing listens
    w.subscription.url = w.receiver().url
    w.subscription.save()
    assert op.call(path=op.path).json()["success"] is True


@scenario
def webhooks_event_types_list(op, w):
    assert any(t["name"] == "task.created" for t in op.call().json())


@scenario
def webhooks_register_create(op, w):
    shopify = w.shopify()
    op.path = {"account_id": w.shop.pk}
    assert op.call(path=op.path).json()["failed"] == []
    assert op.call(path={"account_id": w.qualia.pk}).status_code == 422  # not Shopify
    shopify.list_status = 500
    assert op.call(path=op.path).status_code == 502
    w.settings.WEBHOOK_BASE_URL = ""
    assert op.call(path=op.path).status_code == 503


# Those that remove what their other calls need: they provoke the errors themselves, first.
PROVOKE_FIRST = {"channels_destroy", "tokens_destroy", "webhooks_destroy"}


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_every_answer_of_the_operation_is_documented_and_matches_the_schema(
    operation_id, world, settings
):
    assert operation_id in SCENARIOS, f"{operation_id} is in the schema but not exercised here"
    operation = Operation(operation_id, world)

    SCENARIOS[operation_id](operation, world)
    if operation_id not in PROVOKE_FIRST:
        provoke_errors(operation)

    assert {s for s in operation.statuses if s < "300"}, "no call succeeded"
    assert operation.documented() - NOT_PROVOKED <= operation.statuses


def test_every_scenario_is_an_operation_of_the_schema():
    assert set(SCENARIOS) == set(OPERATIONS)
