"""One helper per built-in event type, for application code.

`trigger_task_completed(task_id="t1", task_data={...}, user_id=7)` publishes `task.completed`
with data `{"task_id": "t1", **task_data}` to user 7's subscriptions. Call them inside your own
transaction: the event and its deliveries commit (or roll back) with it.
"""

from django.contrib.auth import get_user_model

from webhooks.services import PublishResult, event_publish


def _trigger(event_type: str, user_id: int, data: dict) -> PublishResult:
    owner = get_user_model().objects.get(pk=user_id)
    return event_publish(owner=owner, event_type=event_type, data=data, source="app")


def trigger_email_received(*, email_id: str, email_data: dict, user_id: int) -> PublishResult:
    return _trigger("email.received", user_id, {"email_id": email_id, **email_data})


def trigger_email_sent(*, email_id: str, email_data: dict, user_id: int) -> PublishResult:
    return _trigger("email.sent", user_id, {"email_id": email_id, **email_data})


def trigger_email_indexed(*, email_id: str, email_data: dict, user_id: int) -> PublishResult:
    return _trigger("email.indexed", user_id, {"email_id": email_id, **email_data})


def trigger_calendar_event_created(*, event_id: str, event_data: dict, user_id: int):
    return _trigger("calendar.event.created", user_id, {"event_id": event_id, **event_data})


def trigger_calendar_event_updated(*, event_id: str, event_data: dict, user_id: int):
    return _trigger("calendar.event.updated", user_id, {"event_id": event_id, **event_data})


def trigger_calendar_event_deleted(*, event_id: str, user_id: int) -> PublishResult:
    return _trigger("calendar.event.deleted", user_id, {"event_id": event_id})


def trigger_task_created(*, task_id: str, task_data: dict, user_id: int) -> PublishResult:
    return _trigger("task.created", user_id, {"task_id": task_id, **task_data})


def trigger_task_updated(*, task_id: str, task_data: dict, user_id: int) -> PublishResult:
    return _trigger("task.updated", user_id, {"task_id": task_id, **task_data})


def trigger_task_completed(*, task_id: str, task_data: dict, user_id: int) -> PublishResult:
    return _trigger("task.completed", user_id, {"task_id": task_id, **task_data})


def trigger_task_deleted(*, task_id: str, user_id: int) -> PublishResult:
    return _trigger("task.deleted", user_id, {"task_id": task_id})


def trigger_indexing_started(*, job_id: str, job_data: dict, user_id: int) -> PublishResult:
    return _trigger("indexing.started", user_id, {"job_id": job_id, **job_data})


def trigger_indexing_completed(*, job_id: str, job_data: dict, user_id: int) -> PublishResult:
    return _trigger("indexing.completed", user_id, {"job_id": job_id, **job_data})


def trigger_indexing_failed(*, job_id: str, error: str, user_id: int) -> PublishResult:
    return _trigger("indexing.failed", user_id, {"job_id": job_id, "error": error})


def trigger_user_created(*, user_data: dict, user_id: int) -> PublishResult:
    return _trigger("user.created", user_id, {"user_id": str(user_id), **user_data})


def trigger_user_settings_updated(*, changed: list[str], user_id: int) -> PublishResult:
    return _trigger("user.settings.updated", user_id, {"user_id": str(user_id), "changed": changed})


def trigger_export_completed(*, export_id: str, export_data: dict, user_id: int):
    return _trigger("export.completed", user_id, {"export_id": export_id, **export_data})


def trigger_sync_completed(*, sync_id: str, sync_data: dict, user_id: int) -> PublishResult:
    return _trigger("sync.completed", user_id, {"sync_id": sync_id, **sync_data})
