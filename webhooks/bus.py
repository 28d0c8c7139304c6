"""The optional event bus: every published event also goes to NATS JetStream.

Enabled by `EVENT_BUS_URL=nats://…`. The publish hook writes an outbox row in the event's
transaction and queues a Celery task after commit, so a NATS outage never blocks a request or
a delivery. The task publishes and deletes the row; a failure leaves it with a backoff, and a
beat sweep publishes whatever is due, so a lost task or a long outage delays the publish and
never drops it. Each message carries `Nats-Msg-Id` = the event id, so JetStream's duplicate
window drops a second publish of one event (a task and the sweep racing). Subject:
`<EVENT_BUS_SUBJECT_PREFIX>.<event_type>` (`events.…`); stream: `EVENT_BUS_STREAM`, created on
first use if missing.
"""

import asyncio
import json
import logging
import threading
from datetime import timedelta

import nats
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from nats.js.errors import NotFoundError

from webhooks.models import BusOutboxEntry, Event
from webhooks.publishing import PublishHook
from webhooks.request_ids import current_request_id

logger = logging.getLogger(__name__)

PUBLISH_TIMEOUT_SECONDS = 5
# The sweep's first look, should the task queued after commit never run.
_SWEEP_AFTER = timedelta(minutes=1)
_BACKOFF_CAP_SECONDS = 600


class BusOutbox(PublishHook):
    """The publish hook: record that the bus is owed the event, then queue its publish once
    the event commits. Creates no delivery."""

    def create(self, *, event: Event) -> int:
        BusOutboxEntry.objects.create(event=event, next_attempt_at=event.created_at + _SWEEP_AFTER)
        return 0

    def created(self, *, event: Event, count: int) -> None:
        from webhooks.tasks import event_bus_publish_task  # tasks import this module

        transaction.on_commit(lambda: event_bus_publish_task.delay(event.pk), robust=True)


def event_bus_outbox_publish(*, entry: BusOutboxEntry) -> bool:
    """Publish one owed event and forget it; on failure keep it, due again after a backoff."""
    try:
        event_bus_publish(event=entry.event)
    except Exception as exc:
        attempts = entry.attempts + 1
        BusOutboxEntry.objects.filter(pk=entry.pk).update(
            attempts=attempts,
            next_attempt_at=timezone.now()
            + timedelta(seconds=min(2**attempts, _BACKOFF_CAP_SECONDS)),
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        logger.warning("bus.publish_failed", extra={"event_id": entry.pk, "attempts": attempts})
        return False
    BusOutboxEntry.objects.filter(pk=entry.pk).delete()
    return True


def event_bus_outbox_sweep(*, limit: int = 500) -> int:
    """Publish the owed events that are due, oldest first; stops at the first failure (NATS is
    then most likely down for all of them). Returns how many were published."""
    due = (
        BusOutboxEntry.objects.select_related("event")
        .filter(next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")[:limit]
    )
    published = 0
    for entry in due:
        if not event_bus_outbox_publish(entry=entry):
            break
        published += 1
    return published


def event_message(event: Event) -> tuple[str, bytes, dict[str, str]]:
    """Subject, body and headers of the bus message for `event`."""
    body = {
        "id": event.public_id,
        "event_type": event.event_type,
        "source": event.source,
        "owner_id": event.owner_id,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": event.data,
    }
    headers = {"Nats-Msg-Id": event.public_id}
    if request_id := current_request_id():
        headers["X-Correlation-Id"] = request_id
    subject = f"{settings.EVENT_BUS_SUBJECT_PREFIX}.{event.event_type}"
    return subject, json.dumps(body, separators=(",", ":")).encode(), headers


class _Connection:
    """One NATS connection per process, driven by its own event loop thread.

    Celery tasks are synchronous; connecting per message would cost a TCP and NATS handshake
    each time, so the connection (and the stream check) is made once and reused.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._jetstream = None
        self._target: tuple[str, str, str] | None = None

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(
            PUBLISH_TIMEOUT_SECONDS * 2
        )

    async def _connect(self, url: str, stream: str, subject_prefix: str):
        client = await nats.connect(
            url, connect_timeout=PUBLISH_TIMEOUT_SECONDS, max_reconnect_attempts=1
        )
        jetstream = client.jetstream(timeout=PUBLISH_TIMEOUT_SECONDS)
        try:
            await jetstream.stream_info(stream)
        except NotFoundError:
            await jetstream.add_stream(name=stream, subjects=[f"{subject_prefix}.>"])
        return jetstream

    def jetstream(self):
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, daemon=True).start()
            target = (
                settings.EVENT_BUS_URL,
                settings.EVENT_BUS_STREAM,
                settings.EVENT_BUS_SUBJECT_PREFIX,
            )
            if self._jetstream is None or self._target != target:
                self._jetstream = self._run(self._connect(*target))
                self._target = target
            return self._jetstream

    def publish(self, subject: str, body: bytes, headers: dict[str, str]):
        jetstream = self.jetstream()
        try:
            return self._run(
                jetstream.publish(
                    subject,
                    body,
                    headers=headers,
                    timeout=PUBLISH_TIMEOUT_SECONDS,
                    stream=settings.EVENT_BUS_STREAM,
                )
            )
        except Exception:
            self._jetstream = None  # reconnect on the next try
            raise


_connection = _Connection()


def event_bus_publish(*, event: Event) -> bool:
    """Publish `event` to JetStream; returns False when JetStream dropped it as a duplicate."""
    subject, body, headers = event_message(event)
    ack = _connection.publish(subject, body, headers)
    return not ack.duplicate
