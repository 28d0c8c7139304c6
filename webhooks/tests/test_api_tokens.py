import hashlib

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from webhooks.models import ApiToken

pytestmark = pytest.mark.django_db


def test_a_valid_bearer_token_authenticates(api, user):
    response = api.get("/api/tokens")
    assert response.status_code == 200
    assert [token["name"] for token in response.json()] == ["tests"]


def test_a_wrong_token_gets_401_json_with_a_bearer_challenge(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer whk_not-a-real-token")
    response = client.get("/api/tokens")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json() == {"detail": "Invalid token.", "code": "authentication_failed"}


def test_no_credentials_get_401_json_not_a_redirect():
    response = APIClient().get("/api/tokens")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_token_of_an_inactive_user_is_refused(api, user):
    user.is_active = False
    user.save()
    assert api.get("/api/tokens").status_code == 401


def test_a_created_token_is_shown_once_and_stored_hashed(api):
    response = api.post("/api/tokens", {"name": "crm"}, format="json")
    assert response.status_code == 201
    raw_token = response.json()["token"]

    stored = ApiToken.objects.get(pk=response.json()["id"])
    assert stored.key_hash == hashlib.sha256(raw_token.encode()).hexdigest()
    assert "token" not in api.get("/api/tokens").json()[0]
    reused = APIClient()
    reused.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_token}")
    assert reused.get("/api/tokens").status_code == 200


def test_a_missing_name_is_a_422_naming_the_field(api):
    response = api.post("/api/tokens", {}, format="json")
    assert response.status_code == 422
    assert "name" in response.json()["errors"]


def test_revoking_a_token_is_only_possible_for_its_owner(api, other_api, user):
    token = user.api_tokens.get()
    assert other_api.delete(f"/api/tokens/{token.pk}").status_code == 404
    assert api.delete(f"/api/tokens/{token.pk}").status_code == 204
    assert api.get("/api/tokens").status_code == 401


def test_management_command_prints_a_working_token(user, capsys):
    call_command("create_api_token", "alice", "--name", "ops")
    raw_token = capsys.readouterr().out.strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_token}")
    assert client.get("/api/tokens").status_code == 200
