"""The event bus against the real NATS JetStream server on 127.0.0.1:4222."""

import asyncio
import json
import secrets

import nats
import pytest
from django.utils import timezone

from webhooks.bus import event_bus_outbox_sweep, event_bus_publish
from webhooks.models import BusOutboxEntry
from webhooks.services import event_publish
from webhooks.tasks import event_bus_publish_task

pytestmark = pytest.mark.django_db

NATS_URL = "nats://127.0.0.1:4222"


@pytest.fixture
def bus(settings):
    """A stream and subject prefix of this test's own, deleted afterwards."""
    name = f"test{secrets.token_hex(4)}"
    settings.EVENT_BUS_URL = NATS_URL
    settings.EVENT_BUS_STREAM = name.upper()
    settings.EVENT_BUS_SUBJECT_PREFIX = name
    yield settings
    asyncio.run(_delete_stream(name.upper()))


async def _delete_stream(stream: str) -> None:
    client = await nats.connect(NATS_URL)
    try:
        await client.jetstream().delete_stream(stream)
    finally:
        await client.close()


def read_stream(prefix: str, stream: str) -> list:
    async def read():
        client = await nats.connect(NATS_URL)
        try:
            consumer = await client.jetstream().pull_subscribe(f"{prefix}.>", stream=stream)
            try:
                return await consumer.fetch(batch=10, timeout=1)
            except nats.errors.TimeoutError:
                return []
        finally:
            await client.close()

    return asyncio.run(read())


def test_an_event_is_published_once_even_when_published_twice(bus, user):
    event = event_publish(owner=user, event_type="task.completed", data={"task_id": "t1"}).event

    assert event_bus_publish(event=event) is True
    assert event_bus_publish(event=event) is False  # JetStream's own dedupe on Nats-Msg-Id

    [message] = read_stream(bus.EVENT_BUS_SUBJECT_PREFIX, bus.EVENT_BUS_STREAM)
    assert message.subject == f"{bus.EVENT_BUS_SUBJECT_PREFIX}.task.completed"
    assert message.headers["Nats-Msg-Id"] == event.public_id
    body = json.loads(message.data)
    assert (body["id"], body["data"]) == (event.public_id, {"task_id": "t1"})


def test_publishing_an_event_records_it_owed_and_queues_the_bus_task_after_commit(
    bus, user, django_capture_on_commit_callbacks
):
    bus.EVENT_PUBLISH_HOOKS = [*bus.EVENT_PUBLISH_HOOKS, "webhooks.bus.BusOutbox"]
    with django_capture_on_commit_callbacks() as callbacks:
        event = event_publish(owner=user, event_type="task.created", data={}).event
    assert len(callbacks) == 1
    assert BusOutboxEntry.objects.filter(event=event).exists()

    event_bus_publish_task(event.pk)  # what the queued task runs

    [message] = read_stream(bus.EVENT_BUS_SUBJECT_PREFIX, bus.EVENT_BUS_STREAM)
    assert message.headers["Nats-Msg-Id"] == event.public_id
    assert not BusOutboxEntry.objects.exists()


def test_a_nats_outage_never_fails_the_publish_and_the_sweep_delivers_later(bus, user):
    bus.EVENT_PUBLISH_HOOKS = [*bus.EVENT_PUBLISH_HOOKS, "webhooks.bus.BusOutbox"]
    event = event_publish(owner=user, event_type="task.created", data={}).event
    reachable = bus.EVENT_BUS_URL
    bus.EVENT_BUS_URL = "nats://127.0.0.1:9"

    event_bus_publish_task(event.pk)  # the task after commit, while NATS is down

    entry = BusOutboxEntry.objects.get()
    assert entry.attempts == 1
    assert entry.next_attempt_at > timezone.now()
    assert entry.last_error
    assert event_bus_outbox_sweep() == 0  # not due yet

    bus.EVENT_BUS_URL = reachable
    BusOutboxEntry.objects.update(next_attempt_at=timezone.now())
    assert event_bus_outbox_sweep() == 1

    [message] = read_stream(bus.EVENT_BUS_SUBJECT_PREFIX, bus.EVENT_BUS_STREAM)
    assert message.headers["Nats-Msg-Id"] == event.public_id
    assert not BusOutboxEntry.objects.exists()
