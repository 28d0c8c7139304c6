import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from webhooks.encryption import decrypt, encrypt


def test_round_trip_and_the_token_does_not_contain_the_plaintext():
    token = encrypt("whsec_top-secret-value")
    assert "top-secret" not in token
    assert decrypt(token) == "whsec_top-secret-value"


def test_every_configured_key_decrypts_and_the_first_encrypts(settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    old_token = encrypt("s3cret")

    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert decrypt(old_token) == "s3cret"
    assert Fernet(new_key.encode()).decrypt(encrypt("s3cret").encode()) == b"s3cret"


def test_a_token_no_key_fits_fails_loudly(settings):
    token = encrypt("s3cret")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        decrypt(token)
