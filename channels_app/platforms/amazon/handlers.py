"""SP-API notifications into projections and internal events, and SNS subscription confirming.

Shapes are Amazon's published schemas (amzn/selling-partner-api-models,
schemas/notifications/*.json). Most notifications spell their keys in camelCase
(`notificationType`, `payload.feedProcessingFinishedNotification.feedId`) but ORDER_CHANGE uses
PascalCase throughout (`NotificationType`, `Payload.OrderChangeNotification.AmazonOrderId`), so
every key is looked up in either spelling (`field`, `_key`); handlers read each field's type
and length through webhooks.untrusted.Fields.

SNS does not keep order: an ORDER_CHANGE whose `eventTime` is not newer than the one that last
wrote the order is recorded but changes nothing.
"""

import time

import requests
from django.conf import settings
from django.utils import timezone
from requests_hardened.ip_filter import InvalidIPAddress

from channels_app.commerce.models import LineItem, Order
from channels_app.commerce.orders import ID_LENGTH, QUANTITY, is_newer, order_event_data
from channels_app.models import InboundEvent
from channels_app.platforms.amazon.models import ProcessingReport, SnsSubscription
from channels_app.platforms.amazon.verify import sns_url_allowed
from channels_app.platforms.base import Problem
from channels_app.services import inbound_event_publish
from webhooks.http import client as http
from webhooks.untrusted import Fields, aware_time

# Orders API OrderStatus → our financial/fulfillment vocabulary. Amazon moves an order out of
# Pending (and PendingAvailability, for pre-orders) once payment is authorized.
FINANCIAL_STATUS = {
    "Pending": "pending",
    "PendingAvailability": "pending",
    "Unshipped": "paid",
    "PartiallyShipped": "paid",
    "Shipped": "paid",
    "InvoiceUnconfirmed": "paid",
}
FULFILLMENT_STATUS = {"PartiallyShipped": "partial", "Shipped": "fulfilled",
                      "InvoiceUnconfirmed": "fulfilled"}  # fmt: skip
CANCELED = "Canceled"  # Amazon's spelling
ERROR_BODY_BYTES = 500  # of a refused confirmation's answer, kept in SnsSubscription.error


def field(obj, name: str):
    """`obj[name]` for a camelCase `name`, else its PascalCase spelling; None when absent."""
    if not isinstance(obj, dict):
        return None
    if name in obj:
        return obj[name]
    return obj.get(name[:1].upper() + name[1:])


def notification_type(notification: dict) -> str:
    """The SP-API `notificationType`, or "" when there is none."""
    value = field(notification, "notificationType")
    return value if isinstance(value, str) else ""


def _key(fields: Fields, name: str) -> str:
    """The spelling of camelCase `name` that `fields` uses: as given, else PascalCase."""
    return name if name in fields else name[:1].upper() + name[1:]


def _read(notification: dict) -> Fields:
    # The notification is the JSON inside the SNS message's `Message`: paths start there.
    return Fields(notification, ("Message",))


def _section(notification: Fields, name: str) -> Fields:
    payload = notification.object(_key(notification, "payload"))
    return payload.object(_key(payload, name))


def _text(fields: Fields, name: str, max_length: int | None = None) -> str:
    return fields.text(_key(fields, name), max_length=max_length)


def order_change_process(event: InboundEvent, notification: dict) -> None:
    """ORDER_CHANGE: upsert the order by AmazonOrderId, then order.created/updated/cancelled."""
    message = _read(notification)
    change = _section(message, "orderChangeNotification")
    summary = change.object(_key(change, "summary"))
    trigger = change.object(_key(change, "orderChangeTrigger"))
    event_time = message.time(_key(message, "eventTime"))
    order_id = change.identifier(_key(change, "amazonOrderId"), max_length=ID_LENGTH)
    status = _text(summary, "orderStatus")
    items = [
        (item.identifier(_key(item, "orderItemId"), max_length=ID_LENGTH), {
            "sku": _text(item, "sellerSKU", 255),
            "quantity": item.integer(_key(item, "quantity"), **QUANTITY, default=0),
        })
        for item in summary.objects(_key(summary, "orderItems"))
    ]  # fmt: skip
    extra = {
        "shop": _text(change, "sellerId"),
        "order_status": status,
        "order_change_type": _text(change, "orderChangeType"),
        "change_reason": _text(trigger, "changeReason"),
        "marketplace_id": _text(summary, "marketplaceId"),
    }
    order, created = Order.objects.select_for_update().get_or_create(
        account=event.account, external_id=order_id
    )
    if not is_newer(order.remote_updated_at, event_time):
        return  # an older (or repeated) notification: keep the newer data
    order.financial_status = FINANCIAL_STATUS.get(status, order.financial_status)
    order.fulfillment_status = FULFILLMENT_STATUS.get(status, "")
    if status == CANCELED and order.cancelled_at is None:
        order.cancelled_at = event_time or timezone.now()
    order.remote_updated_at = event_time
    order.save()
    for item_id, defaults in items:
        LineItem.objects.update_or_create(order=order, external_id=item_id, defaults=defaults)
    if status == CANCELED:
        event_type = "order.cancelled"
    else:
        event_type = "order.created" if created else "order.updated"
    # ORDER_CHANGE carries no amounts: total_price stays None.
    data = order_event_data(order, **extra)
    inbound_event_publish(event=event, event_type=event_type, data=data)


def _processing_finished(
    *, kind: str, section: str, noun: str, document: str, document_key: str, event_type: str
):
    """A handler recording a finished feed or report and publishing `event_type`."""

    def handle(event: InboundEvent, notification: dict) -> None:
        finished = _section(_read(notification), section)
        report_id = finished.identifier(_key(finished, f"{noun}Id"), max_length=ID_LENGTH)
        defaults = {
            "type": _text(finished, f"{noun}Type", 100),
            "processing_status": _text(finished, "processingStatus", 50),
            "document_id": _text(finished, document, 200),
        }
        seller_id = _text(finished, "sellerId")
        report, _ = ProcessingReport.objects.update_or_create(
            account=event.account, kind=kind, external_id=report_id, defaults=defaults
        )
        inbound_event_publish(event=event, event_type=event_type, data={
            f"{noun}_id": report.external_id,
            f"{noun}_type": report.type,
            "processing_status": report.processing_status,
            document_key: report.document_id or None,
            "seller_id": seller_id,
        })  # fmt: skip

    return handle


NOTIFICATION_TYPES = {
    "ORDER_CHANGE": order_change_process,
    "FEED_PROCESSING_FINISHED": _processing_finished(
        kind=ProcessingReport.Kind.FEED,
        section="feedProcessingFinishedNotification",
        noun="feed",
        document="resultFeedDocumentId",
        document_key="result_feed_document_id",
        event_type="amazon.feed.finished",
    ),
    "REPORT_PROCESSING_FINISHED": _processing_finished(
        kind=ProcessingReport.Kind.REPORT,
        section="reportProcessingFinishedNotification",
        noun="report",
        document="reportDocumentId",
        document_key="report_document_id",
        event_type="amazon.report.finished",
    ),
}

# What each handled notification must name, as (payload section, required id field).
_REQUIRED = {
    "ORDER_CHANGE": ("orderChangeNotification", "amazonOrderId"),
    "FEED_PROCESSING_FINISHED": ("feedProcessingFinishedNotification", "feedId"),
    "REPORT_PROCESSING_FINISHED": ("reportProcessingFinishedNotification", "reportId"),
}


def notification_problems(notification: dict) -> list[Problem]:
    """Why a notification of a type we handle cannot be processed; [] for other types."""
    required = _REQUIRED.get(notification_type(notification))
    if required is None:
        return []
    section, id_field = required
    loc = ("body", "Message", "payload", section)
    finished = field(field(notification, "payload"), section) or {}
    if not isinstance(finished, dict) or not finished:
        return [Problem(loc, "expected an object", "type_error")]
    problems = []
    identifier = field(finished, id_field)
    if not isinstance(identifier, str) or not identifier:
        problems.append(Problem((*loc, id_field), "field required", "value_error.missing"))
    if section == "orderChangeNotification":
        if aware_time(field(notification, "eventTime")) is None:
            problems.append(
                Problem(
                    ("body", "Message", "eventTime"), "expected an ISO 8601 time", "value_error"
                )
            )
        if not isinstance(field(finished, "summary") or {}, dict):
            problems.append(Problem((*loc, "Summary"), "expected an object", "type_error"))
    return problems


def _confirmation_error(subscribe_url: str) -> str:
    """Confirm by a GET of SubscribeURL; the error, or "" when SNS accepted it."""
    if not sns_url_allowed(subscribe_url):
        return "SubscribeURL is not an allowed Amazon SNS address."
    timeout = settings.AMAZON_SNS_HTTP_TIMEOUT_SECONDS
    try:
        with http.session().get(
            subscribe_url, timeout=timeout, allow_redirects=False, stream=True
        ) as response:
            if response.status_code == 200:
                return ""
            head = http.read_capped(
                response, limit=ERROR_BODY_BYTES, deadline=time.perf_counter() + timeout
            )
    except InvalidIPAddress as exc:
        return f"SubscribeURL resolved to an address we may not call: {exc}"
    except requests.RequestException as exc:
        return f"{type(exc).__name__}: {exc}"[:2000]
    text = head.decode(errors="replace")
    return f"SubscribeURL answered {response.status_code}: {text}"


def sns_subscription_confirm(*, event: InboundEvent, message: dict) -> SnsSubscription:
    """Confirm a verified SubscriptionConfirmation and record the outcome as an SnsSubscription.

    Runs after the stored confirmation's processing commits (the GET must not hold its row);
    reprocessing it after a failure tries again, and after a success does nothing (the
    confirmed row is returned).
    """
    topic_arn, subscribe_url = message["TopicArn"], message["SubscribeURL"]
    confirmed = SnsSubscription.objects.filter(
        account=event.account,
        topic_arn=topic_arn,
        subscribe_url=subscribe_url,
        status=SnsSubscription.Status.CONFIRMED,
    ).first()
    if confirmed is not None:
        return confirmed
    error = _confirmation_error(subscribe_url)
    return SnsSubscription.objects.create(
        account=event.account,
        topic_arn=topic_arn,
        subscribe_url=subscribe_url,
        status=SnsSubscription.Status.FAILED if error else SnsSubscription.Status.CONFIRMED,
        error=error,
    )
