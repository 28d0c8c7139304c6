from celery import shared_task

from webhooks.services import worker_heartbeat_record


@shared_task
def worker_heartbeat_task() -> None:
    """Run by beat: proves a worker consumes the default queue (shown by /health)."""
    worker_heartbeat_record()
