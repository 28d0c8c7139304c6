"""Reads of the event core, shared by the dashboard and the API."""

from datetime import datetime, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from webhooks.models import Event


def count_per_hour(rows: QuerySet, *, field: str, window: timedelta) -> dict[datetime, int]:
    """How many of `rows` fall in each hour of the window, by their datetime `field`."""
    since = timezone.now() - window
    per_hour = (
        rows.filter(**{f"{field}__gte": since})
        .annotate(hour=TruncHour(field))
        .values("hour")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {row["hour"]: row["count"] for row in per_hour}


def events_per_hour(*, window: timedelta) -> dict[datetime, int]:
    return count_per_hour(Event.objects.all(), field="created_at", window=window)


def events_recent(*, owner, limit: int) -> list[Event]:
    """The owner's newest `limit` events, newest first (read on the `event_owner_recent` index)."""
    return list(Event.objects.filter(owner=owner).order_by("-created_at", "-pk")[:limit])
