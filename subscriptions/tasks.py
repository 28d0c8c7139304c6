"""Thin, idempotent Celery entry points to the delivery engine (routed to `deliveries`)."""

from celery import shared_task

from subscriptions import operational
from subscriptions.delivery import maintenance, pump


@shared_task
def deliveries_pump_task() -> int:
    """Deliver due work with many requests in flight until idle (safe to run any number of
    times at once: every delivery is claimed before it is sent)."""
    return pump.deliveries_pump()


@shared_task
def deliveries_sweep_task() -> dict:
    """Beat, every few seconds: release stranded claims and wake a pump while work is due."""
    result = maintenance.deliveries_sweep()
    return {"released": result.released, "woken": result.woken}


@shared_task
def deliveries_cleanup_task() -> dict:
    """Beat, daily: delete finished history past the retention period."""
    return maintenance.deliveries_cleanup()


@shared_task
def operational_email_task(event_id: int) -> bool:
    """Email an endpoint's owner about an operational event, once (routed to `default`)."""
    return operational.operational_email_send(event_id=event_id)
