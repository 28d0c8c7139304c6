"""Signature schemes shared by both directions.

Standard Webhooks (https://www.standardwebhooks.com/): `webhook-signature: v1,<base64 HMAC-SHA256
of "id.timestamp.body">`, keyed by the base64-decoded part of a `whsec_` secret; several
space-separated signatures while a rotated secret is still valid. The legacy scheme our older
receivers verify is `X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the body>` keyed by the
whole secret string.
"""

import base64
import hashlib
import hmac
import secrets
import time

from webhooks.untrusted import MalformedInput, ascii_int

SECRET_PREFIX = "whsec_"  # noqa: S105  (a label, not a secret)
SECRET_BYTES = 24
DEFAULT_TOLERANCE_SECONDS = 5 * 60


class SignatureError(ValueError):
    """The signature is missing, malformed, stale or does not match."""


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def constant_time_equal(expected: str, offered: str) -> bool:
    """Compare a computed signature with one from a request, in constant time.

    As bytes: `hmac.compare_digest` raises TypeError for a non-ASCII str, and a header value
    is whatever the sender chose.
    """
    return hmac.compare_digest(expected.encode(), offered.encode())


def standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def legacy_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_verify(
    secrets_to_try: list[str],
    *,
    msg_id: str,
    timestamp: str,
    signature_header: str,
    body: bytes,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Raise SignatureError unless one `v1` signature matches one of the secrets, in time."""
    if not (msg_id and timestamp and signature_header):
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        sent_at = ascii_int(timestamp)
    except MalformedInput as exc:
        raise SignatureError("webhook-timestamp is not a Unix time in ASCII digits") from exc
    if abs((time.time() if now is None else now) - sent_at) > tolerance:
        raise SignatureError("webhook-timestamp is outside the tolerance")
    offered = [part for part in signature_header.split() if part.startswith("v1,")]
    for secret in secrets_to_try:
        expected = standard_signature(secret, msg_id, sent_at, body)
        if any(constant_time_equal(expected, candidate) for candidate in offered):
            return
    raise SignatureError("no signature matches")
