import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from webhooks.signing import (
    SignatureError,
    legacy_signature,
    secret_generate,
    standard_signature,
    standard_verify,
)

# The published Standard Webhooks / Svix test vector.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_standard_signature_matches_the_published_test_vector():
    assert standard_signature(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == (
        VECTOR_SIGNATURE
    )


def test_the_reference_library_verifies_our_signature():
    secret, now = secret_generate(), int(time.time())
    body = '{"data":{"name":"Zoë 東京"}}'.encode()
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(now),
        "webhook-signature": standard_signature(secret, "evt_1", now, body),
    }
    assert Webhook(secret).verify(body, headers) == {"data": {"name": "Zoë 東京"}}


def test_the_reference_library_rejects_a_tampered_body():
    secret, now = secret_generate(), int(time.time())
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(now),
        "webhook-signature": standard_signature(secret, "evt_1", now, b'{"a":1}'),
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"a":2}', headers)


def test_secrets_are_whsec_and_24_random_bytes():
    secret = secret_generate()
    assert secret.startswith("whsec_")
    assert secret != secret_generate()
    assert len(secret) == len("whsec_") + 32  # base64 of 24 bytes


def test_verify_accepts_any_listed_signature_and_any_given_secret():
    old, new, now = secret_generate(), secret_generate(), int(time.time())
    header = f"{standard_signature(new, 'm', now, b'x')} {standard_signature(old, 'm', now, b'x')}"
    standard_verify([old], msg_id="m", timestamp=str(now), signature_header=header, body=b"x")


@pytest.mark.parametrize(
    ("body", "age", "problem"),
    [(b"tampered", 0, "no signature matches"), (b"x", 301, "outside the tolerance")],
)
def test_verify_rejects_tampered_or_stale(body, age, problem):
    secret, sent = secret_generate(), int(time.time()) - age
    header = standard_signature(secret, "m", sent, b"x")
    with pytest.raises(SignatureError, match=problem):
        standard_verify(
            [secret], msg_id="m", timestamp=str(sent), signature_header=header, body=body
        )


def test_legacy_signature_is_hex_hmac_of_the_body_keyed_by_the_whole_secret():
    # Known answer from `printf '{}' | openssl dgst -sha256 -hmac whsec_abc`.
    assert legacy_signature("whsec_abc", b"{}") == (
        "sha256=a7e20c39a3bd9a0d00109906483a125cba27c676f9feabcde8702361770cc020"
    )
