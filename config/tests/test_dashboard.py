"""The admin index dashboard, checked against known data; every figure's link opens its list."""

from datetime import timedelta

import pytest
from django.utils import timezone

from subscriptions.models import Delivery, DeliveryAttempt
from subscriptions.services import subscription_create
from webhooks.services import event_publish

pytestmark = pytest.mark.django_db

Status = Delivery.Status


@pytest.fixture
def known_deliveries(user):
    subscription = subscription_create(owner=user, url="https://a.example/h", event_types=["*"])
    other = subscription_create(owner=user, url="https://b.example/h", event_types=["task.*"])
    for number in range(5):
        event_publish(owner=user, event_type="task.created", data={"n": number})
    event_publish(owner=user, event_type="email.sent", data={})  # only `subscription`
    # 11 deliveries: set 6 succeeded, 3 failed (2 of `other`), 1 pending due, 1 pending later.
    rows = list(Delivery.objects.order_by("pk"))
    now = timezone.now()
    for row, status in zip(rows, ["succeeded"] * 6 + ["failed"] * 3 + ["pending"] * 2, strict=True):
        row.status = status
    rows[9].next_attempt_at, rows[10].next_attempt_at = (
        now - timedelta(seconds=1),
        now + timedelta(hours=1),
    )
    rows[10].attempt_count = 1
    Delivery.objects.bulk_update(rows, ["status", "next_attempt_at", "attempt_count"])
    for duration, row in zip([10, 20, 30, 40], rows, strict=False):
        DeliveryAttempt.objects.create(
            delivery=row, number=1, started_at=now, duration_ms=duration, request_url="x",
            request_headers={}, response_status=200,
        )  # fmt: skip
    return subscription, other


def figures(response) -> dict:
    return {label: (value, url) for label, value, url in response.context["dashboard"]["figures"]}


def test_the_figures_match_known_deliveries(admin_client, known_deliveries):
    response = admin_client.get("/admin/")

    shown = figures(response)
    assert shown["Deliveries (24 h)"][0] == 11
    assert shown["Succeeded"][0] == 6
    assert shown["Failed"][0] == 3
    assert shown["Pending"][0] == 2
    assert shown["Success rate"][0] == "66.7%"
    assert shown["Retries due now"][0] == 1
    assert shown["Retries due later"][0] == 1
    assert shown["Latency p50 / p95"][0] == "20 / 40 ms"
    failing = [row for row, _ in response.context["dashboard"]["top_failing"]]
    # Which of the two got two failures depends on insert order; the ranking must not.
    assert [row.failures for row in failing] == [2, 1]
    assert {row.url for row in failing} == {"https://a.example/h", "https://b.example/h"}


def test_every_figure_links_to_the_matching_admin_list(admin_client, known_deliveries):
    response = admin_client.get("/admin/")
    shown = figures(response)

    for label, expected in [
        ("Succeeded", 6),
        ("Failed", 3),
        ("Pending", 2),
        ("Retries due now", 1),
        ("Retries due later", 1),
    ]:
        listing = admin_client.get(shown[label][1])
        assert listing.status_code == 200, label
        assert listing.context["cl"].result_count == expected, label
    for row, url in response.context["dashboard"]["top_failing"]:
        assert admin_client.get(url).context["cl"].result_count == row.failures


def test_the_chart_is_inline_svg_for_24_hours_or_7_days(admin_client, known_deliveries):
    day = admin_client.get("/admin/")
    week = admin_client.get("/admin/?window=7d")

    assert b"<svg" in day.content
    assert b"events (6)" in day.content
    assert b"deliveries (11)" in day.content
    assert week.context["dashboard"]["chart_window"] == "7d"
    assert b"cdn" not in day.content.lower()


def test_inbound_figures_by_platform_and_status_link_to_their_lists(admin_client, user):
    from channels_app.models import ChannelAccount, InboundEvent

    account = ChannelAccount.objects.create(
        owner=user, platform="shopify", name="s", external_id="s.myshopify.com"
    )
    for number, status in enumerate(["processed", "processed", "failed", "dead"]):
        InboundEvent.objects.create(
            platform="shopify", account=account, topic="orders/create",
            external_id=str(number), body=b"{}", headers={}, status=status,
        )  # fmt: skip

    dashboard = admin_client.get("/admin/").context["dashboard"]

    rows = {
        (row["platform"], row["status"]): (row["count"], url) for row, url in dashboard["inbound"]
    }
    assert {key: count for key, (count, _) in rows.items()} == {
        ("shopify", "dead"): 1,
        ("shopify", "failed"): 1,
        ("shopify", "processed"): 2,
    }
    failed_list = admin_client.get(rows[("shopify", "failed")][1])
    assert failed_list.context["cl"].result_count == 1
    assert dashboard["inbound_dead"][0] == 1
    assert admin_client.get(dashboard["inbound_dead"][1]).context["cl"].result_count == 1


def test_links_keep_their_figures_time_window(admin_client, known_deliveries, user):
    for _ in range(2):
        event_publish(owner=user, event_type="email.sent", data={})  # `subscription` only
    old_failure, old_pending = Delivery.objects.order_by("-pk")[:2]
    Delivery.objects.filter(pk=old_failure.pk).update(
        status="failed", created_at=timezone.now() - timedelta(days=20)
    )
    Delivery.objects.filter(pk=old_pending.pk).update(
        status="pending", created_at=timezone.now() - timedelta(days=3)
    )

    response = admin_client.get("/admin/")
    shown = figures(response)

    assert admin_client.get(shown["Pending"][1]).context["cl"].result_count == shown["Pending"][0]
    for row, url in response.context["dashboard"]["top_failing"]:
        assert admin_client.get(url).context["cl"].result_count == row.failures
