"""Reads of the event core, shared by the dashboard and the API."""

from datetime import datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncHour
from django.utils import timezone

from webhooks.models import Event


def events_per_hour(*, window: timedelta) -> dict[datetime, int]:
    since = timezone.now() - window
    rows = (
        Event.objects.filter(created_at__gte=since)
        .annotate(hour=TruncHour("created_at"))
        .values("hour")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {row["hour"]: row["count"] for row in rows}
