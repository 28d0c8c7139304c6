"""The shipments projection shared by the shipping platforms (Flipkart, Selloship).

Marketplaces and couriers retry and do not keep order, so every update names the time it
describes. The tracking history always takes what an update adds (it is a log, kept oldest
first); the shipment's fields take an update's values only when it is not older than what is
stored, and an older update only fills fields that are still empty.
"""

import json
from datetime import UTC, datetime

from channels_app.commerce.models import Order, Shipment
from channels_app.models import ChannelAccount, InboundEvent
from channels_app.services import inbound_event_publish

# What a shipment's columns hold, for reading a platform's fields (webhooks.untrusted.Fields).
SHIPMENT_ID_LENGTH = Shipment._meta.get_field("external_id").max_length
AWB_LENGTH = Shipment._meta.get_field("awb").max_length
COURIER_LENGTH = Shipment._meta.get_field("courier").max_length
STATUS_LENGTH = Shipment._meta.get_field("status").max_length


def tracking_entry(*, status: str, at: datetime | None, **details) -> dict:
    """One tracking-history entry; empty details are left out so equal entries compare equal."""
    entry = {"status": status, "at": at.astimezone(UTC).isoformat() if at else None}
    entry.update({key: value for key, value in details.items() if value not in (None, "")})
    return entry


def _history_merged(history: list[dict], entries: list[dict]) -> list[dict]:
    # An entry already present (the same scan sent again, or an event reprocessed) is not added
    # twice. Times are stored in UTC ISO form, so they sort as strings; undated entries go last.
    seen = {json.dumps(entry, sort_keys=True) for entry in history}
    merged = list(history)
    for entry in entries:
        key = json.dumps(entry, sort_keys=True)
        if key not in seen:
            seen.add(key)
            merged.append(entry)
    return sorted(merged, key=lambda entry: (entry.get("at") is None, entry.get("at") or ""))


def _not_older(stored_at: datetime | None, incoming_at: datetime | None) -> bool:
    # Equal times count as current: marketplaces stamp to the second, and two steps of one
    # shipment (packed, ready to dispatch) can share a second; the later arrival wins then.
    return stored_at is None or incoming_at is None or incoming_at >= stored_at


def shipment_apply(
    *,
    account: ChannelAccount,
    external_id: str,
    occurred_at: datetime | None,
    status: str = "",
    awb: str = "",
    courier: str = "",
    order: Order | None = None,
    entries: list[dict] | None = None,
) -> tuple[Shipment, bool]:
    """Record one update of a shipment; returns the row and whether the update was current.

    The row is locked for the rest of the caller's transaction, so two updates of the same
    shipment processed at once apply one after the other. A stale update (older than
    `remote_updated_at`) still adds its tracking entries and fills empty fields.
    """
    shipment, _ = Shipment.objects.select_for_update().get_or_create(
        account=account, external_id=external_id[:100]
    )
    current = _not_older(shipment.remote_updated_at, occurred_at)
    for field, value in (("status", status), ("awb", awb), ("courier", courier)):
        if value and (current or not getattr(shipment, field)):
            setattr(shipment, field, str(value)[: Shipment._meta.get_field(field).max_length])
    if order is not None and (current or shipment.order_id is None):
        shipment.order = order
    if current and occurred_at is not None:
        shipment.remote_updated_at = occurred_at
    shipment.tracking_history = _history_merged(shipment.tracking_history, entries or [])
    shipment.save()
    return shipment, current


def shipment_event_data(shipment: Shipment, *, platform_event: str) -> dict:
    """The `data` of every internal shipment.* and return.* event, whichever platform sent it."""
    return {
        "shipment_id": shipment.external_id,
        "awb": shipment.awb,
        "courier": shipment.courier,
        "status": shipment.status,
        "order_id": shipment.order.external_id if shipment.order else None,
        "updated_at": (
            shipment.remote_updated_at.isoformat() if shipment.remote_updated_at else None
        ),
        "platform_event": platform_event,
        "account": shipment.account.external_id,
    }


def shipment_publish(*, event: InboundEvent, event_type: str, shipment: Shipment, **extra) -> None:
    """Publish the internal event for a processed inbound shipment update, once per inbound row."""
    inbound_event_publish(
        event=event,
        event_type=event_type,
        data={**shipment_event_data(shipment, platform_event=event.topic), **extra},
    )
