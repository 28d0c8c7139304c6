"""Lineage: the link from an inbound request to each internal event it produced.

Events published before it are linked by their idempotency keys, which already named the
request (`inbound:<id>`) or, for a fetched Qualia message, its activity
(`qualia-message:<account>:<message>`). Requests that retention deleted leave nothing to link.
"""

import django.db.models.deletion
from django.db import migrations, models

BATCH = 2000


def _cause_of(key: str, activities) -> int | None:
    """The inbound event id an earlier event's idempotency key names, if any."""
    if key.startswith("inbound:") and key.removeprefix("inbound:").isdecimal():
        return int(key.removeprefix("inbound:"))
    parts = key.split(":")
    if len(parts) == 3 and parts[0] == "qualia-message" and parts[1].isdecimal():
        return activities.get((int(parts[1]), parts[2]))
    return None


def link_earlier_events(apps, schema_editor):
    Event = apps.get_model("webhooks", "Event")
    InboundEvent = apps.get_model("channels_app", "InboundEvent")
    ProducedEvent = apps.get_model("channels_app", "ProducedEvent")
    Activity = apps.get_model("channels_app", "Activity")
    activities = {
        (account_id, message_id): inbound_event_id
        for account_id, message_id, inbound_event_id in Activity.objects.exclude(message_id="")
        .filter(inbound_event__isnull=False)
        .values_list("account_id", "message_id", "inbound_event_id")
    }
    keyed = Event.objects.filter(idempotency_key__regex=r"^(inbound|qualia-message):")
    pairs = []
    for event_id, key in keyed.values_list("pk", "idempotency_key").iterator(chunk_size=BATCH):
        if (cause := _cause_of(key, activities)) is not None:
            pairs.append((event_id, cause))
    for start in range(0, len(pairs), BATCH):
        batch = pairs[start : start + BATCH]
        present = set(
            InboundEvent.objects.filter(pk__in=[cause for _, cause in batch]).values_list(
                "pk", flat=True
            )
        )
        ProducedEvent.objects.bulk_create(
            [ProducedEvent(event_id=e, inbound_event_id=c) for e, c in batch if c in present],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("channels_app", "0009_projections_outlive_their_requests"),
        ("webhooks", "0006_event_traceparent"),
    ]

    operations = [
        migrations.CreateModel(
            name="ProducedEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "event",
                    models.OneToOneField(
                        help_text="The internal event it caused (its deliveries hang off it).",
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="inbound_cause",
                        to="webhooks.event",
                    ),
                ),
                (
                    "inbound_event",
                    models.ForeignKey(
                        help_text="The request that caused it.",
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="produced",
                        to="channels_app.inboundevent",
                    ),
                ),
            ],
        ),
        migrations.RunPython(link_earlier_events, migrations.RunPython.noop),
    ]
