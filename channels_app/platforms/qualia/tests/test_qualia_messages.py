"""The Qualia message fetch against a local fake of Qualia's GraphQL API over real HTTP (the
`qualia_api` fixture, in conftest)."""

import base64

import pytest

from channels_app.models import InboundEvent
from channels_app.platforms.qualia.client import QualiaApiError, qualia_message_fetch
from channels_app.platforms.qualia.models import Activity, Message
from channels_app.platforms.qualia.tests.case import qualia
from webhooks.models import Event

pytestmark = pytest.mark.django_db


def received_activity(client) -> Activity:
    from channels_app.processing import inbound_event_process

    assert qualia.post(client, qualia.fixture("message")).status_code == 200
    inbound_event_process(event=InboundEvent.objects.get())
    return Activity.objects.get()


def test_the_fetch_stores_the_message_and_publishes_it(client, qualia_account, qualia_api, api):
    activity = received_activity(client)

    qualia_message_fetch(activity=activity)

    [request] = qualia_api.requests
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


def test_a_failing_fetch_raises_for_a_retry_and_the_webhook_still_got_200(
    client, qualia_account, qualia_api
):
    qualia_api.fail_with = 500
    activity = received_activity(client)  # the 200 is asserted inside

    with pytest.raises(QualiaApiError):
        qualia_message_fetch(activity=activity)
    assert Message.objects.count() == 0


@pytest.mark.parametrize(
    "answer", [b"[" * 100_000 + b"]" * 100_000, b'{"data": "\\ud800"}', b"[]"],
    ids=["too-deep", "lone-surrogate", "not-an-object"],
)  # fmt: skip
def test_an_answer_that_is_not_json_we_hold_raises_for_a_retry(
    client, qualia_account, qualia_api, answer
):
    qualia_api.answer = answer
    activity = received_activity(client)

    with pytest.raises(QualiaApiError, match="JSON"):
        qualia_message_fetch(activity=activity)
    assert Message.objects.count() == 0


def test_a_qualia_api_on_a_loopback_address_is_never_called_in_production(
    client, qualia_account, qualia_api, settings
):
    activity = received_activity(client)
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False

    with pytest.raises(QualiaApiError, match="an address we may not call"):
        qualia_message_fetch(activity=activity)
    assert qualia_api.requests == []
    assert Message.objects.count() == 0


def test_another_user_cannot_read_the_orders_messages(
    client, qualia_account, qualia_api, other_api
):
    qualia_message_fetch(activity=received_activity(client))
    assert other_api.get("/api/qualia/orders/bK8bg5tajNkDpDk25/messages").json() == []
    assert other_api.get("/api/qualia/orders/bK8bg5tajNkDpDk25/activities").json() == []
