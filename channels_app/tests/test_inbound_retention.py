"""Retention: stored requests are deleted once old and done with; their projections stay."""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app.models import ChannelAccount, InboundEvent
from channels_app.platforms.qualia.models import Activity
from channels_app.services import inbound_events_cleanup

pytestmark = pytest.mark.django_db

Status = InboundEvent.Status


def test_only_old_finished_requests_are_deleted_and_projections_stay(user, settings):
    account = ChannelAccount.objects.create(
        owner=user, platform="qualia", name="Acme", external_id="acme"
    )
    old = timezone.now() - settings.INBOUND_RETENTION - timedelta(hours=1)
    rows = {}
    for status in Status.values:
        for age in ("old", "new"):
            rows[status, age] = InboundEvent.objects.create(
                platform="qualia", account=account, topic="message",
                external_id=f"{status}-{age}", body=b"{}", headers={}, status=status,
            )  # fmt: skip
            if age == "old":
                InboundEvent.objects.filter(pk=rows[status, age].pk).update(received_at=old)
    activity = Activity.objects.create(
        account=account, inbound_event=rows[Status.PROCESSED, "old"], order_id="o1",
        activity_type="message", description="", timestamp_ms=0, received_at=old,
    )  # fmt: skip

    assert inbound_events_cleanup(batch_size=2) == 3  # batches of two: all three still go

    kept = set(InboundEvent.objects.values_list("external_id", flat=True))
    assert kept == {f"{status}-new" for status in Status.values} | {"received-old", "failed-old"}
    activity.refresh_from_db()
    assert activity.inbound_event is None  # the projection outlives its request
    assert inbound_events_cleanup() == 0
