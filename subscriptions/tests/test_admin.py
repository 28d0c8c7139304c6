"""Each admin action is registered, and running it from the changelist does what it says."""

import pytest
from django.contrib import admin

from subscriptions.models import Delivery, Subscription
from subscriptions.tests.receiver import Reply
from webhooks.services import event_publish

pytestmark = pytest.mark.django_db


def run_action(admin_client, model: str, action: str, pks: list[int]):
    return admin_client.post(
        f"/admin/subscriptions/{model}/",
        {"action": action, admin.helpers.ACTION_CHECKBOX_NAME: pks},
        follow=True,
    )


def test_the_actions_are_registered(admin_client):
    subscription_actions = admin.site._registry[Subscription].get_actions(
        admin_client.get("/admin/").wsgi_request
    )
    delivery_actions = admin.site._registry[Delivery].get_actions(
        admin_client.get("/admin/").wsgi_request
    )
    assert {"send_test", "rotate_secret", "enable", "disable"} <= set(subscription_actions)
    assert {"retry_now", "cancel"} <= set(delivery_actions)


def test_send_test_rotate_disable_enable(admin_client, subscription, receiver):
    old_secret = subscription.secret

    page = run_action(admin_client, "subscription", "send_test", [subscription.pk])
    assert b"delivered" in page.content
    assert len(receiver.requests) == 1

    rotated = run_action(admin_client, "subscription", "rotate_secret", [subscription.pk])
    subscription.refresh_from_db()
    assert subscription.secret != old_secret
    assert subscription.previous_secret == old_secret
    assert subscription.secret.encode() in rotated.content  # shown this once
    assert "no-store" in rotated["Cache-Control"]

    run_action(admin_client, "subscription", "disable", [subscription.pk])
    subscription.refresh_from_db()
    assert subscription.is_active is False
    run_action(admin_client, "subscription", "enable", [subscription.pk])
    subscription.refresh_from_db()
    assert subscription.is_active is True


def test_the_secret_is_never_shown(admin_client, subscription):
    page = admin_client.get(f"/admin/subscriptions/subscription/{subscription.pk}/change/")
    assert page.status_code == 200
    assert subscription.secret.encode() not in page.content


def test_retry_now_and_cancel(admin_client, user, subscription, receiver):
    receiver.script(Reply(status=500))
    event_publish(owner=user, event_type="task.created", data={})
    event_publish(owner=user, event_type="task.updated", data={})
    failed, pending = Delivery.objects.order_by("pk")
    Delivery.objects.filter(pk=failed.pk).update(status=Delivery.Status.FAILED)

    run_action(admin_client, "delivery", "retry_now", [failed.pk])
    run_action(admin_client, "delivery", "cancel", [pending.pk])

    failed.refresh_from_db()
    pending.refresh_from_db()
    assert failed.status == Delivery.Status.PENDING
    assert pending.status == Delivery.Status.CANCELLED


def test_lists_and_details_render(admin_client, user, subscription):
    event = event_publish(owner=user, event_type="task.created", data={"t": "<b>x</b>"}).event
    delivery = Delivery.objects.get()
    for path in [
        "/admin/subscriptions/subscription/",
        "/admin/subscriptions/delivery/?status__exact=pending",
        f"/admin/subscriptions/delivery/{delivery.pk}/change/",
        "/admin/webhooks/event/",
        f"/admin/webhooks/event/{event.pk}/change/",
    ]:
        page = admin_client.get(path)
        assert page.status_code == 200, path
    assert (
        b"&lt;b&gt;x&lt;/b&gt;"
        in admin_client.get(f"/admin/webhooks/event/{event.pk}/change/").content
    )


def test_an_events_page_lists_its_own_deliveries(admin_client, user, subscription):
    event = event_publish(owner=user, event_type="task.created", data={}).event
    event_publish(owner=user, event_type="task.updated", data={})
    delivery = Delivery.objects.get(event=event)

    page = admin_client.get(f"/admin/webhooks/event/{event.pk}/change/")

    (deliveries,) = page.context["inline_admin_formsets"]
    assert [form.original for form in deliveries] == [delivery]
    assert f"/admin/subscriptions/delivery/{delivery.pk}/change/".encode() in page.content


def test_deliveries_are_found_by_event_id_and_filtered_by_catalog_type(
    admin_client, user, subscription
):
    wanted = event_publish(owner=user, event_type="task.created", data={}).event
    event_publish(owner=user, event_type="task.updated", data={})

    by_id = admin_client.get(f"/admin/subscriptions/delivery/?q={wanted.public_id}")
    by_type = admin_client.get("/admin/subscriptions/delivery/?event_type=task.updated")

    assert by_id.context["cl"].result_count == 1
    assert [d.event.event_type for d in by_type.context["cl"].result_list] == ["task.updated"]


def test_staff_see_and_edit_an_endpoints_limits(admin_client, subscription):
    page = admin_client.get(f"/admin/subscriptions/subscription/{subscription.pk}/change/")

    assert b'name="max_in_flight"' in page.content
    assert b'name="rate_limit_per_second"' in page.content
    assert b'name="throttled_until"' not in page.content  # the engine's clock, read-only
    listing = admin_client.get("/admin/subscriptions/subscription/")
    assert b"column-max_in_flight" in listing.content
