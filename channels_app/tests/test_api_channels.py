import pytest
from django.contrib.auth.hashers import check_password
from django.db import connection

from channels_app.models import ChannelAccount

pytestmark = pytest.mark.django_db


def create(api, **overrides):
    body = {"platform": "shopify", "name": "Shop", "external_id": "a.myshopify.com",
            "secret": "shpss_secret", **overrides}  # fmt: skip
    return api.post("/api/channels", body, format="json")


def test_create_stores_secrets_encrypted_and_never_returns_them(api):
    response = create(api)
    assert response.status_code == 201
    body = response.json()
    assert "secret" not in body
    assert body["has_secret"] is True
    assert len(body["receive_key"]) >= 24
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM channels_app_channelaccount")
        [(stored,)] = cursor.fetchall()
    assert "shpss_secret" not in stored
    assert ChannelAccount.objects.get().secret == "shpss_secret"


def test_a_qualia_password_is_stored_hashed(api):
    body = create(api, platform="qualia", external_id="acme", password="pw-123456789").json()
    account = ChannelAccount.objects.get(pk=body["id"])
    assert check_password("pw-123456789", account.password_hash)
    assert "pw-123456789" not in account.password_hash


def test_an_invalid_platform_name_and_a_taken_identifier_are_422(api, other_api):
    assert list(create(api, platform="My Space!").json()["errors"]) == ["platform"]
    create(api)
    assert list(create(other_api).json()["errors"]) == ["external_id"]


def test_owner_only_list_get_patch_delete(api, other_api):
    pk = create(api).json()["id"]
    for method in ("get", "patch", "delete"):
        assert (
            getattr(other_api, method)(f"/api/channels/{pk}", {}, format="json").status_code == 404
        )
    assert other_api.get("/api/channels").json()["results"] == []

    patched = api.patch(f"/api/channels/{pk}", {"is_active": False, "secret": "new"}, format="json")
    assert patched.json()["is_active"] is False
    assert ChannelAccount.objects.get().secret == "new"
    assert api.delete(f"/api/channels/{pk}").status_code == 204
    assert ChannelAccount.objects.count() == 0
