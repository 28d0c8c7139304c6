import pytest

from conftest import child_env, database_url_for_children, start_celery_worker
from subscriptions.services import subscription_create


@pytest.fixture
def subscription(user, receiver):
    return subscription_create(
        owner=user, url=receiver.url, event_types=["task.*"], retry_count=3, timeout_seconds=2
    )


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start a real Celery worker on the test database, with settings overridden by keyword;
    every worker started is stopped at teardown, also when the test failed before it could."""
    started = []

    def start(**overrides: str):
        env = child_env(DATABASE_URL=database_url_for_children(), **overrides)
        handle = start_celery_worker(env, tmp_path / f"worker-{len(started) + 1}.log")
        started.append(handle)
        return handle

    yield start
    for handle in started:
        handle.stop()
