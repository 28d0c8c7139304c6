"""Inbound retries are owned by the rows: a lost broker message delays work, never loses it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app.models import ChannelAccount, InboundEvent
from channels_app.platforms.qualia import fetches
from channels_app.platforms.qualia.models import Activity, Message
from channels_app.platforms.qualia.tests.test_qualia_messages import received_activity
from channels_app.processing import inbound_events_sweep
from conftest import child_env, database_url_for_children, start_celery_worker, wait_until
from webhooks.models import Event

STRIPE_EVENT = b'{"id": "evt_1", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}'


@pytest.fixture
def worker(transactional_db, tmp_path, qualia_api, broker_flushed):
    handle = start_celery_worker(
        child_env(
            DATABASE_URL=database_url_for_children(),
            QUALIA_API_URL=qualia_api.url,
            WEBHOOKS_ALLOW_PRIVATE_URLS="true",
        ),
        tmp_path / "worker.log",
    )
    yield handle
    handle.stop()


@pytest.fixture
def broker_flushed(settings):
    """Empties the test broker, as a restarted Redis without persistence would be."""
    import redis

    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("flushes a Redis broker")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    yield client.flushdb
    client.flushdb()


def test_a_failed_row_whose_message_was_lost_is_processed_after_the_sweep(user, worker):
    account = ChannelAccount.objects.create(
        owner=user, platform="stripe", name="Stripe", external_id="acct_1", secret="whsec_x"
    )
    # Failed once, its retry due a while ago, and no message in the broker for it.
    event = InboundEvent.objects.create(
        platform="stripe", account=account, topic="customer.created", external_id="evt_1",
        body=STRIPE_EVENT, headers={}, status=InboundEvent.Status.FAILED, attempts=1,
        next_attempt_at=timezone.now() - timedelta(seconds=5),
    )  # fmt: skip

    assert inbound_events_sweep() == 1

    def done():
        event.refresh_from_db()
        return event.status == InboundEvent.Status.IGNORED  # customer.created projects nothing

    wait_until(done, timeout=30)
    assert event.attempts == 2
    assert event.next_attempt_at is None


def test_a_qualia_api_outage_and_a_flushed_broker_end_with_the_message_fetched_once(
    client, qualia_account, qualia_api, worker, broker_flushed
):
    qualia_api.fail_with = 503
    activity = received_activity(client)  # its fetch is owed from here on

    # The fetch is tried at once, then again after its backoff, while the API is down.
    wait_until(lambda: Activity.objects.get().fetch_attempts >= 2, timeout=30)
    activity.refresh_from_db()
    assert activity.fetch_status == Activity.Fetch.PENDING
    assert "503" in activity.fetch_error
    assert activity.fetch_next_at > timezone.now()

    broker_flushed()  # the retry's hint is gone with the broker
    qualia_api.fail_with = None  # the API is back
    Activity.objects.filter(pk=activity.pk).update(fetch_next_at=timezone.now())  # time passes

    assert fetches.message_fetches_sweep() == 1
    wait_until(lambda: Activity.objects.get().fetch_status == Activity.Fetch.FETCHED, timeout=30)
    assert Message.objects.count() == 1
    assert Event.objects.filter(event_type="qualia.message.received").count() == 1
    assert fetches.message_fetch_attempt(activity_id=activity.pk) is False  # nothing owed


@pytest.mark.django_db
def test_a_fetch_failing_past_the_give_up_time_is_dead_until_retried_from_the_admin(
    client, qualia_account, qualia_api, admin_client, settings
):
    qualia_api.fail_with = 500
    activity = received_activity(client)
    Activity.objects.filter(pk=activity.pk).update(
        received_at=timezone.now() - settings.QUALIA_FETCH_GIVE_UP_AFTER
    )

    assert fetches.message_fetch_attempt(activity_id=activity.pk) is False

    activity.refresh_from_db()
    assert (activity.fetch_status, activity.fetch_next_at) == (Activity.Fetch.DEAD, None)
    assert "500" in activity.fetch_error
    qualia_api.fail_with = None
    admin_client.post(
        "/admin/channels_app/activity/",
        {"action": "fetch_message_again", "_selected_action": [activity.pk]},
    )
    assert fetches.message_fetch_attempt(activity_id=activity.pk) is True
    assert Message.objects.count() == 1
