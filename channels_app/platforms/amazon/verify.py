"""Amazon SNS message signatures, verified as AWS documents them.

https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html: the string to
sign is "Name\\nValue\\n" for each of the message type's fields in byte order of their names
(`Subject` only when present), signed with RSA PKCS#1 v1.5 over SHA1 (`SignatureVersion` 1) or
SHA256 (2) by the key of the X.509 certificate at `SigningCertURL`.

That URL comes from the request itself, so it is trusted only when its scheme and host match
the settings (https on `sns.<region>.amazonaws.com` by default): anything else is refused before
a single byte is fetched. The `SubscribeURL` of a subscription confirmation obeys the same rule.
"""

import base64
import binascii
import hashlib
import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from requests_hardened.ip_filter import InvalidIPAddress

from channels_app.platforms.base import Unauthorized
from webhooks.http import client as http
from webhooks.untrusted import aware_time

NOTIFICATION = "Notification"
SUBSCRIPTION_CONFIRMATION = "SubscriptionConfirmation"
UNSUBSCRIBE_CONFIRMATION = "UnsubscribeConfirmation"

# The signed fields of each message type, in the order AWS concatenates them.
SIGNED_FIELDS: dict[str, tuple[str, ...]] = {
    NOTIFICATION: ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    SUBSCRIPTION_CONFIRMATION: (
        "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type",
    ),
    UNSUBSCRIBE_CONFIRMATION: (
        "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type",
    ),
}  # fmt: skip
OPTIONAL_SIGNED_FIELDS = frozenset({"Subject"})
SIGNATURE_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
# A real SNS certificate is under 2 kB; anything far larger is not one.
MAX_CERTIFICATE_BYTES = 64 * 1024
_CACHE_PREFIX = "amazon-sns-cert:"


def string_to_sign(message: dict) -> bytes:
    """The exact bytes SNS signed for `message` (its `Type` picks the fields)."""
    lines = []
    for name in SIGNED_FIELDS[message["Type"]]:
        if name in OPTIONAL_SIGNED_FIELDS and message.get(name) is None:
            continue
        lines.append(f"{name}\n{message[name]}\n")
    return "".join(lines).encode()


def _signature_bytes(message: dict) -> bytes:
    try:
        signature = base64.b64decode(message.get("Signature") or "", validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise Unauthorized("Signature is not base64.") from exc
    if not signature:
        raise Unauthorized("Signature is empty.")
    return signature


def signature_verify(message: dict, certificate: x509.Certificate) -> None:
    """Raise Unauthorized unless `message` carries a valid signature by `certificate`'s key."""
    algorithm = SIGNATURE_HASHES.get(str(message.get("SignatureVersion")))
    if algorithm is None:
        raise Unauthorized("Unsupported SignatureVersion.")
    signature = _signature_bytes(message)
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise Unauthorized("The signing certificate does not hold an RSA key.")
    try:
        public_key.verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm())
    except InvalidSignature as exc:
        raise Unauthorized("Invalid signature.") from exc


def sns_url_allowed(url: str, *, path_suffix: str = "") -> bool:
    """Whether we may fetch `url`: an allowed scheme and an SNS host (settings), no credentials.

    The hostname, not the raw authority, is matched, so `https://sns.x.amazonaws.com@evil/`
    is refused; the pattern must match the whole hostname whatever anchors it was written with.
    """
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a malformed port)
    except ValueError:
        return False
    return bool(
        parts.scheme in settings.AMAZON_SNS_URL_SCHEMES
        and parts.hostname
        and parts.username is None
        and re.fullmatch(settings.AMAZON_SNS_CERT_HOST_PATTERN, parts.hostname)
        and parts.path.endswith(path_suffix)
    )


def timestamp_check(message: dict, *, now: datetime | None = None) -> None:
    """Refuse a message signed too long ago, so a captured one cannot be replayed later."""
    signed_at = aware_time(message.get("Timestamp"))
    if signed_at is None or timezone.is_naive(signed_at):
        raise Unauthorized("Timestamp is not an ISO 8601 time with a zone.")
    now = now or timezone.now()
    max_age = timedelta(seconds=settings.AMAZON_SNS_MAX_AGE_SECONDS)
    # A little tolerance the other way for clock skew between SNS and us.
    if now - signed_at > max_age or signed_at - now > timedelta(minutes=5):
        raise Unauthorized("Timestamp is outside the allowed age.")


def certificate_check(certificate: x509.Certificate, *, at: datetime | None = None) -> None:
    """Refuse a certificate outside its validity period (at `at`, default now)."""
    at = at or timezone.now()
    if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
        raise Unauthorized("The signing certificate is not valid now.")


def _certificate_download(url: str) -> bytes:
    try:
        with http.session().get(
            url,
            timeout=settings.AMAZON_SNS_HTTP_TIMEOUT_SECONDS,
            allow_redirects=False,
            stream=True,
        ) as response:
            if response.status_code != 200:
                raise Unauthorized(f"Fetching the signing certificate gave {response.status_code}.")
            pem = response.raw.read(MAX_CERTIFICATE_BYTES + 1, decode_content=True)
    except InvalidIPAddress as exc:
        raise Unauthorized("SigningCertURL resolved to an address we may not call.") from exc
    except requests.RequestException as exc:
        raise Unauthorized("Could not fetch the signing certificate.") from exc
    if len(pem) > MAX_CERTIFICATE_BYTES:
        raise Unauthorized("The signing certificate is too large.")
    return pem


def certificate_fetch(url: str) -> x509.Certificate:
    """The certificate at an allowed SigningCertURL, from the cache or fetched (no redirects).

    Only a PEM that parses as an X.509 certificate is cached, keyed by a hash of the URL.
    """
    if not sns_url_allowed(url, path_suffix=".pem"):
        raise Unauthorized("SigningCertURL is not an allowed Amazon SNS address.")
    key = _CACHE_PREFIX + hashlib.sha256(url.encode()).hexdigest()
    pem = cache.get(key)
    fetched = pem is None
    if fetched:
        pem = _certificate_download(url)
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise Unauthorized("SigningCertURL did not return a PEM certificate.") from exc
    if fetched:
        cache.set(key, pem, timeout=settings.AMAZON_SNS_CERT_CACHE_SECONDS)
    return certificate


def sns_message_precheck(message: dict, *, now: datetime | None = None) -> None:
    """The checks that need no network: signature fields present, age, certificate address.

    Run first, so a forged, replayed or misdirected message never makes us fetch anything.
    """
    if not all(message.get(name) for name in ("Signature", "SignatureVersion", "SigningCertURL")):
        raise Unauthorized("Signature, SignatureVersion and SigningCertURL are required.")
    if str(message["SignatureVersion"]) not in SIGNATURE_HASHES:
        raise Unauthorized("Unsupported SignatureVersion.")
    _signature_bytes(message)
    timestamp_check(message, now=now)
    if not sns_url_allowed(message["SigningCertURL"], path_suffix=".pem"):
        raise Unauthorized("SigningCertURL is not an allowed Amazon SNS address.")


def sns_signature_verify(message: dict, *, now: datetime | None = None) -> None:
    """Fetch (or reuse) the signing certificate, check it is current, check the signature.

    Call after `sns_message_precheck`; raises Unauthorized on the first failure.
    """
    certificate = certificate_fetch(message["SigningCertURL"])
    certificate_check(certificate, at=now)
    signature_verify(message, certificate)
