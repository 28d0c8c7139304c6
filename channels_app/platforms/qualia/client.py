"""Qualia's vendor GraphQL API: fetch the full text of a message a `message` activity named.

The activity only carries ids; the message itself is read from the order's messages with the
account's API credentials (HTTP Basic: username and API token).
"""

import requests
from django.conf import settings
from requests_hardened.ip_filter import InvalidIPAddress

from channels_app.platforms.qualia.models import Activity, Message
from channels_app.services import channel_event_publish
from webhooks.http import client as http
from webhooks.untrusted import MalformedInput, aware_time, json_parse

ORDER_MESSAGES_QUERY = """
query OrderMessages($orderId: ID!) {
  order(_id: $orderId) {
    order_number
    messages { _id from_name text created_date read attachments { name url } }
  }
}
"""
TIMEOUT_SECONDS = 10


class QualiaApiError(Exception):
    """The API failed or did not return the message; the task retries."""


def _order_messages(activity: Activity) -> dict:
    account = activity.account
    token = account.api_token or settings.QUALIA_API_TOKEN
    try:
        response = http.session().post(
            settings.QUALIA_API_URL,
            json={"query": ORDER_MESSAGES_QUERY, "variables": {"orderId": activity.order_id}},
            auth=(account.external_id, token),
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except InvalidIPAddress as exc:
        raise QualiaApiError(
            f"QUALIA_API_URL resolved to an address we may not call: {exc}"
        ) from exc
    except requests.RequestException as exc:
        raise QualiaApiError(f"Qualia API unreachable: {type(exc).__name__}: {exc}") from exc
    if response.status_code != 200:
        raise QualiaApiError(f"Qualia API answered {response.status_code}")
    try:
        body = json_parse(response.content)
    except MalformedInput as exc:
        raise QualiaApiError(f"Qualia API answered malformed JSON: {exc}") from None
    if not isinstance(body, dict):
        raise QualiaApiError("Qualia API answered JSON that is not an object")
    if body.get("errors") or not (body.get("data") or {}).get("order"):
        raise QualiaApiError(f"Qualia API error: {body.get('errors')}")
    return body["data"]["order"]


def qualia_message_fetch(*, activity: Activity) -> Message:
    """Fetch and store the message of a `message` activity; publish qualia.message.received."""
    order = _order_messages(activity)
    found = next(
        (m for m in order.get("messages") or [] if m.get("_id") == activity.message_id), None
    )
    if found is None:
        raise QualiaApiError(f"message {activity.message_id} not in order {activity.order_id}")
    message, created = Message.objects.update_or_create(
        account=activity.account,
        message_id=activity.message_id,
        defaults={
            "order_id": activity.order_id,
            "from_name": found.get("from_name") or "",
            "text": found.get("text") or "",
            "created_date": aware_time(found.get("created_date")),
            "read": bool(found.get("read")),
            "order_number": order.get("order_number") or "",
            "attachments": found.get("attachments") or [],
        },
    )
    if created:
        channel_event_publish(
            account=activity.account,
            event_type="qualia.message.received",
            data={
                "order_id": message.order_id,
                "message_id": message.message_id,
                "from_name": message.from_name,
                "text": message.text,
                "order_number": message.order_number,
            },
            idempotency_key=f"qualia-message:{activity.account_id}:{message.message_id}",
            cause=activity.inbound_event,
        )
    return message
