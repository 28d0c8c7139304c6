import pytest

from subscriptions.services import subscription_create
from subscriptions.tests.receiver import Receiver


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def subscription(user, receiver):
    return subscription_create(
        owner=user, url=receiver.url, event_types=["task.*"], retry_count=3, timeout_seconds=2
    )
