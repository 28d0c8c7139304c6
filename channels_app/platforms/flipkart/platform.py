"""Flipkart: `POST /webhooks/flipkart`, the Order Management notifications of the Seller API.

Flipkart's documented scheme (seller.flipkart.com/api-docs/order-api-docs/NotifIntro.html):
every notification carries

    X_Date: <HTTP-date>
    X_Authorization: FKLOGIN base64(<application id>:<fk_signature>)
    fk_signature = SHA-1(X_Date + notification URL + HTTP method + application secret)

The digest's encoding is not spelled out there; we read it as lowercase hex (and accept
uppercase). The URL is the one Flipkart posted to, `request.build_absolute_uri()`. A date more
than five minutes from our clock is refused, so a captured request cannot be replayed later.
The account is the ChannelAccount with platform "flipkart" and external_id = application id;
its secret is the application secret.

The underscores matter: gunicorn >= 22 and nginx drop header names with `_` by default;
config/gunicorn.conf.py admits exactly these two names. Under WSGI `X-Date` and `X_Date` both
become HTTP_X_DATE, so we cannot tell which spelling was sent. That is safe here because the
value is only ever checked against the signature, which covers the date: a forged header of
either spelling fails it, and both spellings at once are joined into one value that fails too.

Older integrations sign differently: `X-Flipkart-Signature` is the hex HMAC-SHA256 of the raw
body keyed by the application secret. That header names no account, so each active Flipkart
account's secret is tried in turn, as the Stripe receiver does; the first that matches is the
sender. It has no timestamp, so a replay is caught only by deduplication.

No delivery id is sent: the dedupe key is a hash of (eventType, shipmentId or returnId,
timestamp), which is the same on Flipkart's retries of one notification.
"""

import base64
import binascii
import hashlib
import hmac
import json
import time
from email.utils import parsedate_to_datetime

from channels_app.models import ChannelAccount
from channels_app.platforms.base import Platform, Problem, Unauthorized
from channels_app.platforms.flipkart import handlers
from channels_app.selectors import active_account, active_accounts
from webhooks.signing import constant_time_equal

PLATFORM = "flipkart"
TOLERANCE_SECONDS = 300
AUTH_SCHEME = "FKLOGIN"


def flipkart_signature(*, date: str, url: str, method: str, secret: str) -> str:
    """Flipkart's fk_signature: hex SHA-1 of date + URL + method + application secret."""
    # SHA-1 is Flipkart's choice, not ours; the secret in the digest is what authenticates.
    return hashlib.sha1((date + url + method + secret).encode()).hexdigest()  # noqa: S324


def fklogin_authorization(*, app_id: str, signature: str) -> str:
    """The X_Authorization value Flipkart sends for `signature`."""
    return f"{AUTH_SCHEME} " + base64.b64encode(f"{app_id}:{signature}".encode()).decode()


def body_hmac(secret: str, body: bytes) -> str:
    """The older X-Flipkart-Signature: hex HMAC-SHA256 of the raw body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def parse_authorization(header: str) -> tuple[str, str]:
    """(application id, signature) from an X_Authorization value; Unauthorized if malformed."""
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.upper() != AUTH_SCHEME or not credentials:
        raise Unauthorized("X_Authorization must be `FKLOGIN <base64(appid:signature)>`.")
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise Unauthorized("X_Authorization credentials are not valid base64.") from exc
    # The application id may itself hold a colon; the hex signature never does.
    app_id, _, signature = decoded.rpartition(":")
    if not app_id or not signature:
        raise Unauthorized("X_Authorization credentials must be `appid:signature`.")
    return app_id, signature


def _date_is_fresh(date: str) -> bool:
    try:
        sent = parsedate_to_datetime(date)
    except (TypeError, ValueError, OverflowError):  # OverflowError: a year past C's long
        return False
    if sent.tzinfo is None:  # RFC 9110 HTTP-dates are GMT
        return False
    return abs(time.time() - sent.timestamp()) <= TOLERANCE_SECONDS


def _same(expected: str, offered: str) -> bool:
    return constant_time_equal(expected, offered.strip().lower())


def subject_field(event_type: str) -> str:
    """Which top-level id a notification is about: return notifications carry `returnId`."""
    return "returnId" if event_type.startswith("return_") else "shipmentId"


class Flipkart(Platform):
    name = PLATFORM

    def rate_limit_key(self, request) -> str:
        header = request.META.get("HTTP_X_AUTHORIZATION", "")
        try:
            return parse_authorization(header)[0]
        except Unauthorized:
            return request.META.get("REMOTE_ADDR", "")

    def authenticate(self, request, body) -> ChannelAccount:
        # request.META, not request.headers: Django rebuilds header names with dashes, and these
        # arrive as X_Date / X_Authorization (see the module docstring on the WSGI mapping).
        authorization = request.META.get("HTTP_X_AUTHORIZATION", "")
        if authorization:
            return self._fklogin_account(request, authorization)
        signature = request.headers.get("X-Flipkart-Signature", "")
        if signature:
            return self._body_hmac_account(body, signature)
        raise Unauthorized("X_Date and X_Authorization (or X-Flipkart-Signature) are required.")

    def _fklogin_account(self, request, authorization: str) -> ChannelAccount:
        date = request.META.get("HTTP_X_DATE", "")
        if not _date_is_fresh(date):
            raise Unauthorized("X_Date is missing, malformed or more than 5 minutes off.")
        app_id, offered = parse_authorization(authorization)
        account = active_account(platform=PLATFORM, external_id=app_id)
        expected = (
            flipkart_signature(
                date=date,
                url=request.build_absolute_uri(),
                method=request.method,
                secret=account.secret,
            )
            if account and account.secret
            else ""
        )
        # One answer for an unknown application and a wrong signature: no account probing.
        if not expected or not _same(expected, offered):
            raise Unauthorized("Invalid signature.")
        return account

    def _body_hmac_account(self, body: bytes, offered: str) -> ChannelAccount:
        for account in active_accounts(platform=PLATFORM):
            if account.secret and _same(body_hmac(account.secret, body), offered):
                return account
        raise Unauthorized("Invalid signature.")

    def validate(self, payload) -> list[Problem]:
        if not isinstance(payload, dict):
            return [Problem(("body",), "expected a notification object", "type_error")]
        event_type = payload.get("eventType")
        if not isinstance(event_type, str) or not event_type:
            return [Problem(("body", "eventType"), "field required", "value_error.missing")]
        problems = []
        attributes = payload.get("attributes")
        if attributes is not None and not isinstance(attributes, dict):
            problems.append(Problem(("body", "attributes"), "expected an object", "type_error"))
        # Only types we process need their id. Flipkart holds back the rest of a shipment's
        # notifications until one is accepted (its best-practice page), so a type we do not
        # know is accepted whatever its shape, and stored as ignored.
        if handlers.handler_for(event_type) is not None:
            field = subject_field(event_type)
            value = payload.get(field)
            if not isinstance(value, str) or not value:
                problems.append(Problem(("body", field), "field required", "value_error.missing"))
        return problems

    def describe(self, request, payload, body):
        event_type = payload["eventType"]
        subject = payload.get(subject_field(event_type))
        timestamp = payload.get("timestamp")
        if subject in (None, "") or timestamp in (None, ""):
            return event_type, hashlib.sha256(body).hexdigest()
        key = json.dumps([event_type, str(subject), str(timestamp)])
        return event_type, hashlib.sha256(key.encode()).hexdigest()

    def process(self, event, payload) -> bool:
        handler = handlers.handler_for(event.topic)
        if handler is None:
            return False  # stored and marked ignored, not an error
        handler(event, payload)
        return True
