"""Portal links: `POST /api/portal-links` makes one, and it logs its own user in exactly once."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from conftest import client_for
from webhooks.models import PortalLink
from webhooks.services import _token_hash, portal_link_create

pytestmark = pytest.mark.django_db


def link_path(api) -> str:
    response = api.post("/api/portal-links")
    assert response.status_code == 201, response.content
    return urlsplit(response.json()["url"]).path


def test_the_api_answers_a_url_and_when_it_expires(api, user):
    response = api.post("/api/portal-links")

    body = response.json()
    assert response.status_code == 201
    assert body["url"].startswith("http://testserver/portal/link/")
    expires_at = PortalLink.objects.get(user=user).expires_at
    assert timedelta(minutes=14) < expires_at - timezone.now() <= timedelta(minutes=15)


def test_only_a_hash_of_the_token_is_stored(api):
    token = link_path(api).rsplit("/", 1)[1]

    link = PortalLink.objects.get()
    assert link.key_hash == _token_hash(token)
    assert token not in {link.key_hash, str(link.pk)}


def test_the_api_needs_a_bearer_token():
    response = Client().post("/api/portal-links")

    assert response.status_code == 401


def test_a_staff_account_gets_no_portal_link(django_user_model):
    staff = django_user_model.objects.create_user("staff", is_staff=True)

    response = client_for(staff).post("/api/portal-links")

    assert response.status_code == 403
    assert not PortalLink.objects.exists()


def test_a_visit_only_asks_to_confirm_so_a_link_preview_does_not_use_the_link(api, user):
    path = link_path(api)
    Client().get(path)  # a mail scanner or a chat's link preview

    page = Client().get(path)

    assert page.status_code == 200
    assert b'id="link-continue"' in page.content
    assert b"csrfmiddlewaretoken" in page.content
    assert PortalLink.objects.get().used_at is None


def test_a_link_logs_its_user_in_and_leaves_the_address_bar(api, user):
    browser = Client()

    response = browser.post(link_path(api))

    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    assert browser.get("/portal/").context["user"] == user


def test_a_link_used_twice_logs_nobody_in_the_second_time(api):
    path = link_path(api)
    Client().post(path)
    second = Client()

    response = second.get(path)
    assert second.post(path).status_code == 410

    assert response.status_code == 410
    assert b"already used" in response.content
    assert "_auth_user_id" not in second.session


def test_an_expired_link_logs_nobody_in(user):
    link, token = portal_link_create(user=user)
    PortalLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    browser = Client()

    response = browser.get(f"/portal/link/{token}")
    assert browser.post(f"/portal/link/{token}").status_code == 410

    assert response.status_code == 410
    assert b"expired" in response.content
    assert "_auth_user_id" not in browser.session
    assert PortalLink.objects.get(pk=link.pk).used_at is None


def test_an_unknown_link_logs_nobody_in():
    browser = Client()

    response = browser.post("/portal/link/not-a-token")

    assert response.status_code == 410
    assert "_auth_user_id" not in browser.session


def test_a_link_of_a_deactivated_user_logs_nobody_in(user):
    _, token = portal_link_create(user=user)
    user.is_active = False
    user.save()

    response = Client().post(f"/portal/link/{token}")

    assert response.status_code == 410


def test_the_portal_sends_strangers_to_its_login(db):
    response = Client().get("/portal/")

    assert response.status_code == 302
    assert response["Location"].startswith("/portal/login?next=/portal/")


def test_a_user_logs_in_with_the_account_password(django_user_model):
    django_user_model.objects.create_user("carol", password="a-long-password-1")
    browser = Client()

    response = browser.post("/portal/login", {"username": "carol", "password": "a-long-password-1"})

    assert response.status_code == 302
    assert response["Location"] == "/portal/"
