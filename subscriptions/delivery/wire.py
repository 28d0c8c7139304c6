"""The outbound wire format, in one place (see shared DESIGN.md, "Outbound wire format").

The body is `json.dumps(payload, separators=(",", ":"))` (ASCII-escaped, keys in build order),
so a receiver that parses the body and re-serialises it the same way gets the exact bytes we
signed, which is what the legacy `X-Webhook-Signature` snippet relies on.
"""

import json
import time

from django.conf import settings

from webhooks.models import Event
from webhooks.signing import legacy_signature, standard_signature

REDACTED = "[redacted]"
SIGNATURE_HEADERS = ("webhook-signature", "X-Webhook-Signature")


def payload_body(event: Event) -> bytes:
    payload = {
        "id": event.public_id,
        "event_type": event.event_type,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": event.data,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


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


def redacted(headers: dict[str, str]) -> dict[str, str]:
    """The headers as stored on an attempt: signatures are credentials, so never kept."""
    return {k: (REDACTED if k in SIGNATURE_HEADERS else v) for k, v in headers.items()}
