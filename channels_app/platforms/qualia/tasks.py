"""Thin Celery entry points for the Qualia message fetch (its state lives on the activity)."""

from celery import shared_task

from channels_app.platforms.qualia import fetches


@shared_task
def qualia_message_fetch_task(activity_id: int) -> None:
    """Fetch a Qualia message if its fetch is due; a failure records its own retry."""
    fetches.message_fetch_attempt(activity_id=activity_id)


@shared_task
def qualia_message_fetches_sweep_task() -> int:
    """Beat: queue every due Qualia message fetch."""
    return fetches.message_fetches_sweep()
