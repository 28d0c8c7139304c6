"""Types trusted after the signature, Amazon: SNS-signed notifications of the wrong shape.

The signature covers the envelope and the `Message` text; the notification inside it is read
field by field, and one of the wrong type fails the row once with the field's path.
"""

import pytest

from channels_app.commerce.models import LineItem, Order
from channels_app.models import InboundEvent
from channels_app.platforms.amazon.models import ProcessingReport
from channels_app.platforms.amazon.tests.case import notification, post, process_all, sns_message

pytestmark = pytest.mark.django_db


def processed(client, sns, keys, message: dict) -> InboundEvent:
    assert post(client, sns_message(sns, keys, message=message)).status_code == 200
    process_all()
    return InboundEvent.objects.get()


def order_change(**item_changes) -> dict:
    message = notification("order_change")
    item = message["Payload"]["OrderChangeNotification"]["Summary"]["OrderItems"][0]
    item.update(item_changes)
    for name, value in list(item.items()):
        if value is None:
            del item[name]
    return message


ITEM = "`Message.Payload.OrderChangeNotification.Summary.OrderItems[0]"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"OrderItemId": None}, f"{ITEM}.OrderItemId` is required."),
        ({"Quantity": "ten"}, f"{ITEM}.Quantity` must be an integer, not text."),
        ({"SellerSKU": ["SKU1"]}, f"{ITEM}.SellerSKU` must be text, not a list."),
    ],
)
def test_an_order_item_of_the_wrong_shape_fails_once_and_projects_nothing(
    client, account, sns, keys, changes, reason
):
    event = processed(client, sns, keys, order_change(**changes))

    assert (event.status, event.attempts, event.error) == (InboundEvent.Status.DEAD, 1, reason)
    assert not Order.objects.exists()  # not an order with a line item "" the next one joins
    assert not LineItem.objects.exists()


def test_a_feed_type_that_is_not_text_fails_instead_of_storing_its_repr(client, account, sns, keys):
    message = notification("feed_processing_finished")
    message["payload"]["feedProcessingFinishedNotification"]["feedType"] = {"t": "POST"}

    event = processed(client, sns, keys, message)

    assert event.status == InboundEvent.Status.DEAD
    assert event.error == (
        "`Message.payload.feedProcessingFinishedNotification.feedType` must be text, not an object."
    )
    assert not ProcessingReport.objects.exists()
