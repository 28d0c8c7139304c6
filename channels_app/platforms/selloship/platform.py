"""Selloship (shipping aggregator): `POST /webhooks/selloship`, on a contract we define.

Selloship publishes no webhook specification, so integrators configure it to send:

- `X-Selloship-Account`: the account's external_id here. It names the account, so one secret
  is checked per request (trying every account's secret would cost a HMAC per account and
  let one tenant's leaked secret be tried against the others' traffic).
- `X-Selloship-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, keyed by that account's
  secret.
- `X-Selloship-Event-Id`: the same on every retry of one event; the dedupe key. Without it
  the body's SHA-256 is used, so only byte-identical retries are recognised.

The body is `{"event", "awb", "courier", "status", "order_id", "updated_at", "scans"}` (see
channels_app/platforms/selloship/fixtures/); channels_app.platforms.selloship.handlers lists
the events processed. There is no timestamp header: a replayed request is caught by the
event id, not by its age.
"""

import hashlib
import hmac

from channels_app.commerce.shipments import AWB_LENGTH
from channels_app.models import ChannelAccount
from channels_app.platforms.base import (
    TOPIC_LENGTH,
    Platform,
    Problem,
    Unauthorized,
    field_problems,
)
from channels_app.platforms.selloship import handlers
from channels_app.selectors import active_account
from webhooks.signing import constant_time_equal
from webhooks.untrusted import Fields

PLATFORM = "selloship"
SIGNATURE_PREFIX = "sha256="


def selloship_signature(secret: str, body: bytes) -> str:
    """The X-Selloship-Signature value for `body`."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Selloship(Platform):
    name = PLATFORM

    def rate_limit_key(self, request) -> str:
        return request.headers.get("X-Selloship-Account", "")

    def authenticate(self, request, body) -> ChannelAccount:
        account_id = request.headers.get("X-Selloship-Account", "")
        offered = request.headers.get("X-Selloship-Signature", "")
        if not account_id or not offered:
            raise Unauthorized("X-Selloship-Account and X-Selloship-Signature are required.")
        account = active_account(platform=PLATFORM, external_id=account_id)
        if (
            account is None
            or not account.secret
            or not constant_time_equal(selloship_signature(account.secret, body), offered.strip())
        ):
            raise Unauthorized("Invalid signature.")
        return account

    def validate(self, payload) -> list[Problem]:
        if not isinstance(payload, dict):
            return [Problem(("body",), "expected an event object", "type_error")]
        event = payload.get("event")
        if not isinstance(event, str) or not event:
            return [Problem(("body", "event"), "field required", "value_error.missing")]
        fields = Fields(payload)
        # The event is the row's topic: a longer one is refused, not cut short.
        problems = field_problems(lambda: fields.text("event", max_length=TOPIC_LENGTH))
        # An event we do not process is stored and ignored whatever its shape.
        if event in handlers.EVENTS:
            awb = payload.get("awb")
            if not isinstance(awb, str) or not awb:
                problems.append(Problem(("body", "awb"), "field required", "value_error.missing"))
            else:
                problems += field_problems(lambda: fields.text("awb", max_length=AWB_LENGTH))
            scans = payload.get("scans")
            if scans is not None and not isinstance(scans, list):
                problems.append(Problem(("body", "scans"), "expected a list", "type_error"))
        return problems

    def describe(self, request, payload, body):
        external_id = (
            request.headers.get("X-Selloship-Event-Id") or hashlib.sha256(body).hexdigest()
        )
        return payload["event"], external_id

    def process(self, event, payload) -> bool:
        internal_type = handlers.EVENTS.get(event.topic)
        if internal_type is None:
            return False  # stored and marked ignored, not an error
        handlers.shipment_event(event, payload, event_type=internal_type)
        return True
