"""Amazon Selling Partner API notifications over Amazon SNS: `POST /webhooks/amazon`.

SNS posts a JSON document (with `Content-Type: text/plain`) that carries its own signature; see
`verify.py`. The account is the active ChannelAccount with platform "amazon" whose
`external_id` is the message's `TopicArn`: a topic configured on no account is refused (401),
so nobody else's topic can subscribe us or post to us.

- `Notification`: deduplicated on `MessageId`; its `Message` is the SP-API notification JSON
  (`notificationType`, `eventTime`, `payload`, …), processed by `handlers.py`.
- `SubscriptionConfirmation`: stored, then confirmed in the worker by a GET of `SubscribeURL`
  (same address rule as certificates) and recorded as an SnsSubscription.
- `UnsubscribeConfirmation`: stored and ignored.
"""

from functools import partial

from django.db import transaction

from channels_app.models import ChannelAccount
from channels_app.platforms.amazon import handlers
from channels_app.platforms.amazon.models import SnsSubscription
from channels_app.platforms.amazon.verify import (
    NOTIFICATION,
    SIGNED_FIELDS,
    SUBSCRIPTION_CONFIRMATION,
    sns_message_precheck,
    sns_signature_verify,
)
from channels_app.platforms.base import Platform, Problem, Unauthorized
from channels_app.selectors import active_account
from webhooks.untrusted import Fields, MalformedInput, aware_time, json_parse

PLATFORM = "amazon"
_REQUIRED_STRINGS = ("Type", "MessageId", "TopicArn", "Timestamp")
_SUBSCRIPTION_LENGTHS = {
    "TopicArn": SnsSubscription._meta.get_field("topic_arn").max_length,
    "SubscribeURL": SnsSubscription._meta.get_field("subscribe_url").max_length,
}


def _missing(field: str) -> Problem:
    return Problem(("body", field), "field required", "value_error.missing")


def envelope_problems(message) -> list[Problem]:
    """What is wrong with the SNS envelope itself (before any signature can be checked)."""
    if not isinstance(message, dict):
        return [Problem(("body",), "expected an SNS message object", "type_error")]
    problems = [
        _missing(field) if field not in message
        else Problem(("body", field), "expected a non-empty string", "type_error")
        for field in _REQUIRED_STRINGS
        if not (isinstance(message.get(field), str) and message[field])
    ]  # fmt: skip
    message_type = message.get("Type")
    if isinstance(message_type, str) and message_type not in SIGNED_FIELDS:
        problems.append(
            Problem(("body", "Type"), f"unknown SNS message type {message_type!r}", "value_error")
        )
    if isinstance(message.get("Timestamp"), str) and aware_time(message["Timestamp"]) is None:
        problems.append(Problem(("body", "Timestamp"), "expected an ISO 8601 time", "value_error"))
    for field in SIGNED_FIELDS.get(message_type, ()):
        if field in _REQUIRED_STRINGS or (field == "Subject" and message.get(field) is None):
            continue
        if field not in message:
            problems.append(_missing(field))
        elif not isinstance(message[field], str):
            problems.append(Problem(("body", field), "expected a string", "type_error"))
    return problems


def notification_of(message: dict) -> dict | None:
    """The SP-API notification inside a Notification's `Message`, or None when it is not one."""
    try:
        notification = json_parse(message.get("Message") or "")
    except MalformedInput:
        return None
    return notification if isinstance(notification, dict) else None


class Amazon(Platform):
    name = PLATFORM
    signature_in_body = True  # the envelope is checked before authenticate, which needs it

    def rate_limit_key(self, request) -> str:
        return request.headers.get("x-amz-sns-topic-arn") or super().rate_limit_key(request)

    def authenticate(self, request, body) -> ChannelAccount:
        message = json_parse(body)  # already parsed once: the envelope was checked
        sns_message_precheck(message)
        account = active_account(platform=PLATFORM, external_id=message["TopicArn"])
        if account is None:
            raise Unauthorized("No account is configured for this TopicArn.")
        sns_signature_verify(message)
        return account

    def envelope_problems(self, payload) -> list[Problem]:
        return envelope_problems(payload)

    def validate(self, payload) -> list[Problem]:
        problems = envelope_problems(payload)
        if problems or payload["Type"] != NOTIFICATION:
            return problems
        notification = notification_of(payload)
        return [] if notification is None else handlers.notification_problems(notification)

    def describe(self, request, payload, body):
        topic = payload["Type"]
        if topic == NOTIFICATION:
            topic = handlers.notification_type(notification_of(payload) or {}) or NOTIFICATION
        return topic, payload["MessageId"]

    def process(self, event, payload) -> bool:
        if payload["Type"] == SUBSCRIPTION_CONFIRMATION:
            # Checked here, as the confirmation that records them runs after this commits.
            envelope = Fields(payload)
            for name in ("TopicArn", "SubscribeURL"):
                envelope.text(name, max_length=_SUBSCRIPTION_LENGTHS[name], required=True)
            # The GET of SubscribeURL waits on Amazon: after commit, never holding the row.
            transaction.on_commit(
                partial(handlers.sns_subscription_confirm, event=event, message=payload),
                robust=True,
            )
            return True
        if payload["Type"] != NOTIFICATION:
            return False  # UnsubscribeConfirmation: nothing to do, kept in the log
        notification = notification_of(payload)
        if notification is None:
            return False
        handler = handlers.NOTIFICATION_TYPES.get(handlers.notification_type(notification))
        if handler is None:
            return False
        handler(event, notification)
        return True
