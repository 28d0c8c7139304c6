"""Thin, idempotent Celery entry points to the delivery engine (routed to `deliveries`)."""

from celery import shared_task

from subscriptions.delivery import engine


@shared_task
def subscription_deliver_task(subscription_id: int) -> int:
    """Send one batch of the subscription's due deliveries (safe to run twice)."""
    return engine.subscription_deliveries_send(subscription_id=subscription_id)


@shared_task
def deliveries_sweep_task() -> dict:
    """Beat, every few seconds: release stranded claims and wake subscriptions with due work."""
    result = engine.deliveries_sweep()
    return {"released": result.released, "woken": result.woken}


@shared_task
def deliveries_cleanup_task() -> dict:
    """Beat, daily: delete finished history past the retention period."""
    return engine.deliveries_cleanup()
