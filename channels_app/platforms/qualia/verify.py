"""Qualia Marketplace authenticates its webhooks with HTTP Basic auth.

Passwords are stored as Django password hashes, deliberately slow to check; a successful
check is remembered in this process for a minute (keyed by a SHA-256 of the credentials, never
the password itself), so the hash costs once a minute and not on every webhook; the account
itself comes from the receivers' short per-process cache (selectors.active_account).
"""

import base64
import hashlib
import time

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password

from channels_app.models import ChannelAccount
from channels_app.platforms.base import Unauthorized
from channels_app.selectors import active_account
from channels_app.services import environment_account
from webhooks.signing import constant_time_equal

PLATFORM = "qualia"
_REMEMBER_SECONDS = 60
_verified: dict[bytes, tuple[int, float]] = {}
# Checked against for unknown usernames, so both paths cost the same hash.
_DUMMY_HASH = make_password("not-a-password-anyone-uses")


def basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise Unauthorized("HTTP Basic credentials required.")
    try:
        username, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unauthorized("Malformed Basic credentials.") from exc
    if not sep:
        raise Unauthorized("Malformed Basic credentials.")
    return username, password


def _account(username: str, password: str) -> ChannelAccount | None:
    """The account these credentials name, or None. The environment's username is checked
    against WEBHOOK_PASSWORD, which is the truth for its account, before anything is made
    for it; any other against its stored hash (by the caller)."""
    account = ChannelAccount.objects.filter(platform=PLATFORM, external_id=username).first()
    environment_user = bool(settings.WEBHOOK_USERNAME) and constant_time_equal(
        username, settings.WEBHOOK_USERNAME
    )
    if environment_user and (account is None or account.from_environment):
        if not (
            settings.WEBHOOK_PASSWORD and constant_time_equal(password, settings.WEBHOOK_PASSWORD)
        ):
            raise Unauthorized("Invalid credentials.")
        account = environment_account(platform=PLATFORM, external_id=username, password=password)
    return account


def authenticate(header: str) -> ChannelAccount:
    username, password = basic_credentials(header)
    fingerprint = hashlib.sha256(f"{username}\0{password}".encode()).digest()
    remembered = _verified.get(fingerprint)
    if remembered and remembered[1] > time.monotonic():
        account = active_account(platform=PLATFORM, external_id=username)
        if account is not None and account.pk == remembered[0]:
            return account
    account = _account(username, password)
    if account is None:
        check_password(password, _DUMMY_HASH)
        raise Unauthorized("Invalid credentials.")
    if not account.is_active or not check_password(password, account.password_hash):
        raise Unauthorized("Invalid credentials.")
    _verified[fingerprint] = (account.pk, time.monotonic() + _REMEMBER_SECONDS)
    return account
