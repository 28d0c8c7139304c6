"""The data steps of channels_app's migrations, run on rows they were written for."""

import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from channels_app.models import ChannelAccount, InboundEvent, ProducedEvent
from channels_app.platforms.qualia.models import Activity, Message
from webhooks.models import Event
from webhooks.services import event_publish

pytestmark = pytest.mark.django_db


def migration(name: str):
    return importlib.import_module(f"channels_app.migrations.{name}")


def test_message_activities_without_their_message_come_to_owe_its_fetch(user):
    account = ChannelAccount.objects.create(
        owner=user, platform="qualia", name="Acme", external_id="acme"
    )

    def activity(number: int, activity_type: str, message_id: str) -> Activity:
        event = InboundEvent.objects.create(
            platform="qualia", account=account, topic=activity_type,
            external_id=str(number), body=b"{}", headers={},
        )  # fmt: skip
        return Activity.objects.create(
            account=account, inbound_event=event, order_id="o1", activity_type=activity_type,
            description="", message_id=message_id, timestamp_ms=0, received_at=timezone.now(),
        )  # fmt: skip

    owed = activity(1, "message", "m1")
    fetched = activity(2, "message", "m2")
    Message.objects.create(account=account, order_id="o1", message_id="m2")
    other = activity(3, "order_request", "")

    migration("0007_retries_in_the_database").owe_unfetched_messages(apps, None)

    statuses = dict(Activity.objects.values_list("pk", "fetch_status"))
    assert statuses == {owed.pk: "pending", fetched.pk: "fetched", other.pk: ""}
    assert Activity.objects.get(pk=owed.pk).fetch_next_at is not None


def test_accounts_made_from_the_environment_before_the_flag_are_marked(user):
    made = ChannelAccount.objects.create(
        owner=user, platform="stripe", name="stripe (from environment)", external_id="default"
    )
    own = ChannelAccount.objects.create(
        owner=user, platform="stripe", name="Stripe", external_id="acct_1"
    )

    migration("0008_environment_accounts").mark_environment_accounts(apps, None)

    flags = dict(ChannelAccount.objects.values_list("pk", "from_environment"))
    assert flags == {made.pk: True, own.pk: False}


def test_events_published_before_lineage_are_linked_by_their_keys(user):
    account = ChannelAccount.objects.create(
        owner=user, platform="qualia", name="Acme", external_id="acme"
    )
    inbound = InboundEvent.objects.create(
        platform="qualia", account=account, topic="message", external_id="1", body=b"{}",
        headers={},
    )  # fmt: skip
    Activity.objects.create(
        account=account, inbound_event=inbound, order_id="o1", activity_type="message",
        description="", message_id="m1", timestamp_ms=0, received_at=timezone.now(),
    )  # fmt: skip

    def published(key: str) -> Event:
        return event_publish(
            owner=user, event_type="order.created", data={}, idempotency_key=key
        ).event

    activity_event = published(f"inbound:{inbound.pk}")
    message_event = published(f"qualia-message:{account.pk}:m1")
    unrelated = [published("inbound:999999"), published("order-7"), published("inbound:x")]
    ProducedEvent.objects.all().delete()  # as before the migration

    migration("0010_lineage").link_earlier_events(apps, None)

    links = dict(ProducedEvent.objects.values_list("event_id", "inbound_event_id"))
    assert links == {activity_event.pk: inbound.pk, message_event.pk: inbound.pk}
    assert not any(event.pk in links for event in unrelated)
