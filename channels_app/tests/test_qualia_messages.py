"""The Qualia message fetch against a local fake of Qualia's GraphQL API over real HTTP."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from channels_app.models import Activity, ChannelAccount, InboundEvent, Message
from channels_app.platforms.qualia.api import QualiaApiError, qualia_message_fetch
from channels_app.tests.test_qualia import PASSWORD, basic, fixture, post
from webhooks.models import Event

pytestmark = pytest.mark.django_db


class FakeQualia:
    """Answers the OrderMessages query for one order, or a scripted failure status."""

    def __init__(self):
        self.requests: list[dict] = []
        self.fail_with: int | None = None
        self.answer: bytes | None = None  # instead of the order's messages
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"auth": self.headers.get("Authorization"), "body": body})
                if fake.fail_with:
                    self.send_response(fake.fail_with)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                answer = json.dumps({"data": {"order": {
                    "order_number": "TEST-2018-1",
                    "messages": [
                        {"_id": "other", "from_name": "X", "text": "no", "read": True},
                        {"_id": "LEPAjMB43myH8aGcP", "from_name": "Marty McFly",
                         "text": "Can you expedite?", "created_date": "2026-11-20T10:00:00Z",
                         "read": False, "attachments": [{"name": "deed.pdf", "url": "https://x"}]},
                    ],
                }}}).encode() if fake.answer is None else fake.answer  # fmt: skip
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/api/vendor/graphql"


@pytest.fixture
def qualia(settings):
    fake = FakeQualia()
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True  # the fake listens on loopback
    settings.QUALIA_API_URL = fake.url
    yield fake
    fake.server.shutdown()


@pytest.fixture
def account(user):
    from django.contrib.auth.hashers import make_password

    return ChannelAccount.objects.create(
        owner=user, platform="qualia", name="Acme", external_id="acme",
        password_hash=make_password(PASSWORD), api_token="qualia-api-token",
    )  # fmt: skip


def received_activity(client) -> Activity:
    from channels_app.services import inbound_event_process

    assert post(client, fixture("message"), basic("acme", PASSWORD)).status_code == 200
    inbound_event_process(event=InboundEvent.objects.get())
    return Activity.objects.get()


def test_the_fetch_stores_the_message_and_publishes_it(client, account, qualia, api):
    activity = received_activity(client)

    qualia_message_fetch(activity=activity)

    [request] = qualia.requests
    assert request["body"]["variables"] == {"orderId": "bK8bg5tajNkDpDk25"}
    assert request["auth"] == "Basic " + base64.b64encode(b"acme:qualia-api-token").decode()
    message = Message.objects.get()
    assert (message.from_name, message.text, message.order_number) == (
        "Marty McFly",
        "Can you expedite?",
        "TEST-2018-1",
    )
    assert message.attachments == [{"name": "deed.pdf", "url": "https://x"}]
    assert Event.objects.filter(event_type="qualia.message.received").count() == 1
    messages = api.get("/api/qualia/orders/bK8bg5tajNkDpDk25/messages").json()
    assert [m["message_id"] for m in messages] == ["LEPAjMB43myH8aGcP"]
    activities = api.get("/api/qualia/orders/bK8bg5tajNkDpDk25/activities",
                         {"type": "message"}).json()  # fmt: skip
    assert [a["activity_type"] for a in activities] == ["message"]


def test_a_failing_fetch_raises_for_a_retry_and_the_webhook_still_got_200(client, account, qualia):
    qualia.fail_with = 500
    activity = received_activity(client)  # the 200 is asserted inside

    with pytest.raises(QualiaApiError):
        qualia_message_fetch(activity=activity)
    assert Message.objects.count() == 0


@pytest.mark.parametrize(
    "answer", [b"[" * 100_000 + b"]" * 100_000, b'{"data": "\\ud800"}', b"[]"],
    ids=["too-deep", "lone-surrogate", "not-an-object"],
)  # fmt: skip
def test_an_answer_that_is_not_json_we_hold_raises_for_a_retry(client, account, qualia, answer):
    qualia.answer = answer
    activity = received_activity(client)

    with pytest.raises(QualiaApiError, match="JSON"):
        qualia_message_fetch(activity=activity)
    assert Message.objects.count() == 0


def test_a_qualia_api_on_a_loopback_address_is_never_called_in_production(
    client, account, qualia, settings
):
    activity = received_activity(client)
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False

    with pytest.raises(QualiaApiError, match="an address we may not call"):
        qualia_message_fetch(activity=activity)
    assert qualia.requests == []
    assert Message.objects.count() == 0


def test_another_user_cannot_read_the_orders_messages(client, account, qualia, other_api):
    qualia_message_fetch(activity=received_activity(client))
    assert other_api.get("/api/qualia/orders/bK8bg5tajNkDpDk25/messages").json() == []
    assert other_api.get("/api/qualia/orders/bK8bg5tajNkDpDk25/activities").json() == []
