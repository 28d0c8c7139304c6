from django.db.models import QuerySet

from channels_app.models import InboundEvent


def inbound_events_for(owner) -> QuerySet[InboundEvent]:
    return InboundEvent.objects.filter(account__owner=owner).select_related("account")


def inbound_events_waiting_count() -> int:
    return InboundEvent.objects.filter(status=InboundEvent.Status.RECEIVED).count()


def inbound_events_failed_count() -> int:
    return InboundEvent.objects.filter(status=InboundEvent.Status.FAILED).count()
