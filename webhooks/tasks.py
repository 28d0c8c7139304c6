from celery import shared_task

from webhooks.bus import event_bus_publish
from webhooks.models import Event
from webhooks.services import worker_heartbeat_record


@shared_task
def worker_heartbeat_task() -> None:
    """Run by beat: proves a worker consumes the default queue (shown by /health)."""
    worker_heartbeat_record()


@shared_task(
    autoretry_for=(Exception,),
    retry_backoff=2,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=12,
)
def event_bus_publish_task(event_id: int) -> None:
    """Publish one event to the event bus; retried with backoff while NATS is unreachable."""
    event = Event.objects.filter(pk=event_id).first()
    if event is not None:
        event_bus_publish(event=event)
