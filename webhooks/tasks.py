from celery import shared_task

from webhooks.bus import event_bus_outbox_publish, event_bus_outbox_sweep
from webhooks.models import BusOutboxEntry
from webhooks.services import worker_heartbeat_record


@shared_task
def worker_heartbeat_task() -> None:
    """Run by beat: proves a worker consumes the default queue (shown by /health)."""
    worker_heartbeat_record()


@shared_task
def event_bus_publish_task(event_id: int) -> None:
    """Publish one event to the event bus, unless it was published already; a failure is
    retried by the sweep from the outbox row."""
    entry = BusOutboxEntry.objects.select_related("event").filter(pk=event_id).first()
    if entry is not None:
        event_bus_outbox_publish(entry=entry)


@shared_task
def event_bus_sweep_task() -> int:
    """Beat (with EVENT_BUS_URL): publish the owed events that are due."""
    return event_bus_outbox_sweep()
