"""Every inbound admin page renders; bodies are shown escaped; secrets never."""

import pytest

from channels_app.models import ChannelAccount, InboundEvent

pytestmark = pytest.mark.django_db


def test_every_inbound_admin_list_renders(admin_client):
    for model in ["channelaccount", "inboundevent", "activity", "message", "order", "product",
                  "inventorylevel", "payment", "store"]:  # fmt: skip
        assert admin_client.get(f"/admin/channels_app/{model}/").status_code == 200, model


def test_a_raw_body_is_shown_escaped_and_an_account_secret_never(admin_client, user):
    account = ChannelAccount.objects.create(
        owner=user, platform="shopify", name="s", external_id="s.myshopify.com",
        secret="shpss_do_not_show",
    )  # fmt: skip
    event = InboundEvent.objects.create(
        platform="shopify", account=account, topic="orders/create", external_id="1",
        body=b'{"note": "<script>alert(1)</script>"}', headers={},
    )  # fmt: skip

    event_page = admin_client.get(f"/admin/channels_app/inboundevent/{event.pk}/change/")
    account_page = admin_client.get(f"/admin/channels_app/channelaccount/{account.pk}/change/")

    assert b"&lt;script&gt;" in event_page.content
    assert b"<script>alert(1)" not in event_page.content
    assert b"shpss_do_not_show" not in account_page.content


def test_secrets_are_typed_in_write_only_and_kept_when_left_empty(admin_client, user):
    from django.contrib.auth.hashers import check_password

    fields = {"owner": user.pk, "platform": "qualia", "name": "Acme", "external_id": "acme",
              "verification": "", "signature_header": "", "is_active": "on"}  # fmt: skip
    created = admin_client.post(
        "/admin/channels_app/channelaccount/add/",
        {**fields, "new_secret": "s3cret", "new_api_token": "tok3n", "new_password": "pw"},
    )
    account = ChannelAccount.objects.get()
    page = admin_client.get(f"/admin/channels_app/channelaccount/{account.pk}/change/")
    admin_client.post(f"/admin/channels_app/channelaccount/{account.pk}/change/",
                      {**fields, "name": "Acme title"})  # fmt: skip

    account.refresh_from_db()
    assert created.status_code == 302
    assert (account.secret, account.api_token, account.name) == ("s3cret", "tok3n", "Acme title")
    assert check_password("pw", account.password_hash)
    assert b"s3cret" not in page.content
    assert b"tok3n" not in page.content
