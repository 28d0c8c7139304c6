"""A deployment configured only by the environment: valid credentials are never a 401."""

import pytest

from channels_app import services
from channels_app.checks import environment_accounts_have_an_owner
from channels_app.models import ChannelAccount, InboundEvent
from channels_app.platforms.qualia import verify as qualia_verify
from channels_app.platforms.qualia.tests.case import basic, qualia
from channels_app.platforms.shopify.tests.case import shopify
from channels_app.platforms.stripe.tests.case import stripe
from channels_app.selectors import active_accounts_forget

pytestmark = pytest.mark.django_db

QUALIA_USER, QUALIA_PASSWORD = "envuser", "env-password"
SHOPIFY_SECRET, STRIPE_SECRET = "shpss_from_env", "whsec_from_env"


@pytest.fixture(autouse=True)
def environment(settings):
    settings.WEBHOOK_USERNAME, settings.WEBHOOK_PASSWORD = QUALIA_USER, QUALIA_PASSWORD
    settings.SHOPIFY_WEBHOOK_SECRET = SHOPIFY_SECRET
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_SECRET
    services._synced_with_environment.clear()  # a fresh process
    yield settings
    services._synced_with_environment.clear()


def send(client, platform: str, *, secret: str | None = None, number: int = 1):
    """A request to `platform`, with the environment's credentials unless `secret` is given."""
    if platform == "qualia":
        auth = basic(QUALIA_USER, secret or QUALIA_PASSWORD)
        return qualia.post(client, qualia.fixture("message"), auth=auth)
    if platform == "shopify":
        body = shopify.fixture("orders_create")
        return shopify.post(
            client, body, webhook_id=f"wh-{number}", secret=secret or SHOPIFY_SECRET
        )
    body = stripe.fixture("payment_intent_succeeded").replace(b"evt_", b"evt_%d" % number)
    return stripe.post(client, body, secret=secret or STRIPE_SECRET)


PLATFORMS = ["qualia", "shopify", "stripe"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_with_no_owner_valid_credentials_get_503_naming_what_is_missing(client, platform):
    response = send(client, platform)

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "createsuperuser" in response.json()["detail"]
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("platform", PLATFORMS)
def test_with_no_owner_wrong_credentials_are_still_401(client, platform):
    assert send(client, platform, secret="not-the-secret").status_code == 401


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_first_superuser_owns_them_once_there_is_one(client, platform, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "x")

    assert send(client, platform).status_code == 200

    account = ChannelAccount.objects.get(platform=platform)
    assert (account.owner, account.from_environment) == (boss, True)
    assert InboundEvent.objects.get().account == account


def test_environment_accounts_owner_names_the_owner(client, settings, django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.com", "x")
    ops = django_user_model.objects.create_user("ops")
    settings.ENVIRONMENT_ACCOUNTS_OWNER = "ops"

    assert send(client, "shopify").status_code == 200

    assert ChannelAccount.objects.get().owner == ops


@pytest.mark.parametrize(
    ("platform", "setting"),
    [
        ("qualia", "WEBHOOK_PASSWORD"),
        ("shopify", "SHOPIFY_WEBHOOK_SECRET"),
        ("stripe", "STRIPE_WEBHOOK_SECRET"),
    ],
)
def test_a_changed_environment_secret_is_honoured_after_a_restart(
    client, settings, django_user_model, platform, setting
):
    django_user_model.objects.create_superuser("boss", "boss@example.com", "x")
    assert send(client, platform, number=1).status_code == 200
    old = getattr(settings, setting)

    setattr(settings, setting, "rotated-" + old)
    services._synced_with_environment.clear()  # the restart: what each process remembers
    qualia_verify._verified.clear()
    active_accounts_forget()

    assert send(client, platform, secret="rotated-" + old, number=2).status_code == 200
    assert send(client, platform, secret=old, number=3).status_code == 401
    assert ChannelAccount.objects.filter(platform=platform).count() == 1


def test_migrate_warns_when_environment_credentials_have_no_owner(django_user_model):
    [warning] = environment_accounts_have_an_owner(databases=["default"])
    assert warning.id == "channels_app.W001"
    assert "WEBHOOK_USERNAME" in warning.msg

    django_user_model.objects.create_superuser("boss", "boss@example.com", "x")
    assert environment_accounts_have_an_owner(databases=["default"]) == []
