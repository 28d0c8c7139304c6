"""The outbound wire format, in one place (see shared DESIGN.md, "Outbound wire format").

The body is `json.dumps(payload, separators=(",", ":"))` (ASCII-escaped, keys in build order),
so a receiver that parses the body and re-serialises it the same way gets the exact bytes we
signed, which is what the legacy `X-Webhook-Signature` snippet relies on.
"""

import json
import re
import time

from django.conf import settings

from webhooks.models import Event
from webhooks.signing import legacy_signature, standard_signature

REDACTED = "[redacted]"
SIGNATURE_HEADERS = ("webhook-signature", "X-Webhook-Signature")

# An endpoint's own headers may carry credentials for its receiver, never replace ours: the
# signature and its inputs, the body's framing, or what belongs to the connection.
RESERVED_HEADERS = frozenset(
    name.lower()
    for name in (
        "X-Webhook-Signature", "X-Webhook-Event", "Content-Type", "Content-Length",
        "Content-Encoding", "Host", "Connection", "Keep-Alive", "Proxy-Authenticate",
        "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
    )
)  # fmt: skip
RESERVED_HEADER_PREFIX = "webhook-"
MAX_CUSTOM_HEADERS = 20
MAX_HEADER_VALUE_LENGTH = 4096
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")  # an RFC 9110 token
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")  # visible ASCII and blanks: no CR, LF or NUL


def payload(event: Event) -> dict:
    """What a receiver gets, as JSON: also what payload filters look at."""
    return {
        "id": event.public_id,
        "event_type": event.event_type,
        "created_at": timestamp(event),
        "data": event.data,
    }


def timestamp(event: Event) -> str:
    return event.created_at.isoformat().replace("+00:00", "Z")


def payload_body(event: Event) -> bytes:
    return json.dumps(payload(event), separators=(",", ":")).encode()


def signed_headers(
    *, event: Event, body: bytes, secrets: list[str], timestamp: int | None = None
) -> dict[str, str]:
    """Headers for one attempt; `secrets[0]` is the current secret, then still-valid old ones."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "User-Agent": settings.WEBHOOKS_USER_AGENT,
        "webhook-id": event.public_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            standard_signature(secret, event.public_id, timestamp, body) for secret in secrets
        ),
        "X-Webhook-Signature": legacy_signature(secrets[0], body),
        "X-Webhook-Event": event.event_type,
    }


def custom_headers_problem(headers: dict[str, str]) -> str | None:
    """Why an endpoint's custom headers cannot be sent, or None."""
    if len(headers) > MAX_CUSTOM_HEADERS:
        return f"At most {MAX_CUSTOM_HEADERS} headers."
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(name):
            return f"{name!r} is not a valid header name."
        lowered = name.lower()
        if lowered in RESERVED_HEADERS or lowered.startswith(RESERVED_HEADER_PREFIX):
            return f"{name} is set by the platform and cannot be overridden."
        if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
            return f"The value of {name} must be printable ASCII text, without line breaks."
        if len(value) > MAX_HEADER_VALUE_LENGTH:
            return f"The value of {name} is longer than {MAX_HEADER_VALUE_LENGTH} characters."
    if len({name.lower() for name in headers}) < len(headers):
        return "A header name appears twice (names are case-insensitive)."
    return None


def request_headers(*, custom: dict[str, str], signed: dict[str, str]) -> dict[str, str]:
    """What an attempt sends: the endpoint's own headers, then ours (validation keeps them
    apart; ours win should an old row hold a name that is reserved today)."""
    return {**custom, **signed}


def redacted(headers: dict[str, str], custom: dict[str, str]) -> dict[str, str]:
    """The headers as stored on an attempt: signatures and the endpoint's own headers are
    credentials, so their values are never kept."""
    secret = {*SIGNATURE_HEADERS, *custom}
    return {k: (REDACTED if k in secret else v) for k, v in headers.items()}
