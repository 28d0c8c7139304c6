"""Amazon fixtures: the test keys, the local SNS stand-in, the account, a real server."""

import pytest
from django.core.cache import cache

from channels_app.models import ChannelAccount
from channels_app.platforms.amazon.tests.case import LOOPBACK_PATTERN, TOPIC, FakeSns, Keys
from conftest import child_env, database_url_for_children, start_web_server


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys()


@pytest.fixture
def sns(keys):
    fake = FakeSns()
    fake.routes["/SimpleNotificationService-test.pem"] = (200, Keys.pem(keys.certificate))
    fake.routes["/SimpleNotificationService-expired.pem"] = (
        200,
        Keys.pem(keys.expired_certificate),
    )
    fake.routes["/confirm"] = (200, b"<ConfirmSubscriptionResponse/>")
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def loopback_sns(settings):
    """Let the local fake stand in for sns.<region>.amazonaws.com; start with a cold cache."""
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    settings.AMAZON_SNS_CERT_HOST_PATTERN = LOOPBACK_PATTERN
    settings.AMAZON_SNS_URL_SCHEMES = ["http"]
    cache.clear()


@pytest.fixture
def account(user):
    return ChannelAccount.objects.create(
        owner=user, platform="amazon", name="Amazon US", external_id=TOPIC
    )


@pytest.fixture
def live_app_with_loopback_sns(transactional_db, tmp_path):
    """The app under gunicorn (as `live_app`), allowed to fetch from the local fake SNS."""
    handle, base_url = start_web_server(
        child_env(
            DATABASE_URL=database_url_for_children(),
            WEBHOOKS_ALLOW_PRIVATE_URLS="true",
            AMAZON_SNS_CERT_HOST_PATTERN=LOOPBACK_PATTERN,
            AMAZON_SNS_URL_SCHEMES="http",
        ),
        tmp_path / "web.log",
    )
    yield base_url
    handle.stop()
