"""Thin Celery entry points for inbound processing (routed to the `inbound` queue).

Platform packages keep their own tasks in a `tasks` module, imported at the end so that the
worker, which autodiscovers this module only, registers them too.
"""

from celery import shared_task

from channels_app import processing, services
from channels_app.models import InboundEvent
from channels_app.platforms import platform_modules


@shared_task
def inbound_event_process_task(event_id: int) -> None:
    """Process one stored event if it is owed processing; a failure records its own retry."""
    event = InboundEvent.objects.select_related("account__owner").filter(pk=event_id).first()
    if event is not None:
        processing.inbound_event_process(event=event)


@shared_task
def inbound_events_drain_task(account_id: int) -> int:
    """Process an account's received events (one wake per burst of them)."""
    return processing.inbound_events_drain(account_id=account_id)


@shared_task
def inbound_events_sweep_task() -> int:
    """Beat: queue the events owed processing whose message was lost, and due retries."""
    return processing.inbound_events_sweep()


@shared_task
def inbound_events_cleanup_task() -> int:
    """Beat, daily: delete stored requests past their retention that are done with."""
    return services.inbound_events_cleanup()


platform_modules("tasks")
