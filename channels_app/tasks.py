"""Thin Celery entry points for inbound processing (routed to the `inbound` queue)."""

from celery import shared_task

from channels_app import services
from channels_app.models import Activity, InboundEvent, Message
from channels_app.platforms.qualia.api import qualia_message_fetch


@shared_task(bind=True, max_retries=None)
def inbound_event_process_task(self, event_id: int) -> None:
    """Process one stored event; retried with backoff, left `failed` after the last try."""
    event = InboundEvent.objects.select_related("account__owner").filter(pk=event_id).first()
    if event is None or event.status in (
        InboundEvent.Status.PROCESSED,
        InboundEvent.Status.IGNORED,
    ):
        return
    try:
        services.inbound_event_process(event=event)
    except Exception as exc:
        if self.request.retries >= services.inbound_max_retries():
            return  # dead letter: the row stays `failed` with its error, for reprocessing
        raise self.retry(exc=exc, countdown=2 ** (self.request.retries + 1)) from exc


@shared_task
def inbound_events_drain_task(account_id: int) -> int:
    """Process an account's received events (one wake per burst of them)."""
    return services.inbound_events_drain(account_id=account_id)


@shared_task
def inbound_events_sweep_task() -> int:
    """Beat: queue again the received events whose message was lost."""
    return services.inbound_events_sweep()


@shared_task(autoretry_for=(Exception,), retry_backoff=2, retry_backoff_max=300, max_retries=6)
def qualia_message_fetch_task(activity_id: int) -> None:
    """Fetch a Qualia message after its activity was acknowledged; retried with backoff."""
    activity = Activity.objects.select_related("account__owner").filter(pk=activity_id).first()
    if (
        activity is not None
        and not Message.objects.filter(
            account=activity.account, message_id=activity.message_id
        ).exists()
    ):
        qualia_message_fetch(activity=activity)
