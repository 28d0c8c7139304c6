"""Any other source: `POST /webhooks/<source>` for a platform without a receiver of its own.

A source exists once an account names it as its platform and says how its requests are
verified (`ChannelAccount.verification`):

- `standard_webhooks`: `webhook-id`, `webhook-timestamp` and `webhook-signature` headers as
  https://www.standardwebhooks.com/ specifies (five-minute tolerance), keyed by the account's
  `whsec_` secret; `webhook-id` is the dedupe key.
- `hmac_sha256`: the hex HMAC-SHA256 of the raw body (optionally prefixed `sha256=`) in the
  header the account names, keyed by the account's secret; the payload's `id` (text or an
  integer; anything else is 422), else the body's SHA-256, is the dedupe key.

Every account of the source is tried, so one source can serve several tenants. The payload is
an object with a `type` (or `event_type`); it is published to the owner's subscriptions as
`<source>.<type>` with the payload's `data` object (else the whole payload).
"""

import hashlib
import hmac

from channels_app.models import ChannelAccount, InboundEvent
from channels_app.platforms.base import Platform, Problem, Unauthorized, field_problems
from channels_app.selectors import active_accounts
from channels_app.services import inbound_event_publish
from webhooks.catalog import OPEN_TYPE_NAME
from webhooks.signing import SignatureError, constant_time_equal, standard_verify
from webhooks.untrusted import Fields

STANDARD_WEBHOOKS = "standard_webhooks"
HMAC_SHA256 = "hmac_sha256"
TYPE_FIELDS = ("type", "event_type")


def source_accounts(name: str) -> list[ChannelAccount]:
    """The active accounts that make `name` a configured source (remembered briefly)."""
    return [account for account in active_accounts(platform=name) if account.verification]


def payload_type(payload: dict) -> str:
    for field in TYPE_FIELDS:
        value = payload.get(field)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _payload_id(payload: dict) -> str:
    """The payload's `id` (text or an integer), "" when it has none."""
    return Fields(payload).identifier("id", max_length=None, required=False)


def _hmac_matches(account: ChannelAccount, request, body: bytes) -> bool:
    offered = request.headers.get(account.signature_header, "").removeprefix("sha256=")
    expected = hmac.new(account.secret.encode(), body, hashlib.sha256).hexdigest()
    return bool(offered) and constant_time_equal(expected, offered.lower())


def _standard_matches(account: ChannelAccount, request, body: bytes) -> bool:
    try:
        standard_verify(
            [account.secret],
            msg_id=request.headers.get("webhook-id", ""),
            timestamp=request.headers.get("webhook-timestamp", ""),
            signature_header=request.headers.get("webhook-signature", ""),
            body=body,
        )
    except (SignatureError, ValueError):  # ValueError: a secret that is not base64
        return False
    return True


class ConfiguredSource(Platform):
    def __init__(self, name: str):
        self.name = name

    def authenticate(self, request, body) -> ChannelAccount:
        for account in source_accounts(self.name):
            if not account.secret:
                continue
            if account.verification == STANDARD_WEBHOOKS:
                matches = _standard_matches(account, request, body)
            else:
                matches = bool(account.signature_header) and _hmac_matches(account, request, body)
            if matches:
                return account
        raise Unauthorized("No signature matches, or it is outside the tolerance.")

    def validate(self, payload) -> list[Problem]:
        if not isinstance(payload, dict):
            return [Problem(("body",), "expected an object", "type_error")]
        topic = payload_type(payload)
        if not topic:
            return [Problem(("body", "type"), "field required", "value_error.missing")]
        if not OPEN_TYPE_NAME.fullmatch(f"{self.name}.{topic}"):
            return [
                Problem(
                    ("body", "type"),
                    "printable ASCII without spaces, at most 100 characters with the source name",
                    "value_error",
                )
            ]
        # An `id` may be the dedupe key: `true` or an object would dedupe as "True" or "{...}".
        return field_problems(lambda: _payload_id(payload))

    def describe(self, request, payload, body):
        external_id = (
            request.headers.get("webhook-id")
            or _payload_id(payload)
            or hashlib.sha256(body).hexdigest()
        )
        return payload_type(payload), external_id

    def process(self, event: InboundEvent, payload: dict) -> bool:
        data = payload.get("data")
        inbound_event_publish(
            event=event,
            event_type=f"{self.name}.{event.topic}",
            data=data if isinstance(data, dict) else payload,
        )
        return True
