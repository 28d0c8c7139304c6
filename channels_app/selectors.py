from datetime import timedelta

from django.db.models import Count, QuerySet
from django.utils import timezone

from channels_app.models import InboundEvent


def inbound_events_for(owner) -> QuerySet[InboundEvent]:
    return InboundEvent.objects.filter(account__owner=owner).select_related("account")


def inbound_events_waiting_count() -> int:
    return InboundEvent.objects.filter(status=InboundEvent.Status.RECEIVED).count()


def inbound_events_failed_count() -> int:
    return InboundEvent.objects.filter(status=InboundEvent.Status.FAILED).count()


def inbound_counts_by_platform_and_status(*, window: timedelta) -> list[dict]:
    """[{platform, status, count}] of events received in the window."""
    return list(
        InboundEvent.objects.filter(received_at__gte=timezone.now() - window)
        .values("platform", "status")
        .annotate(count=Count("pk"))
        .order_by("platform", "status")
    )
