"""The staff dashboard on the admin index: figures from the apps' selectors, each linked to
the admin list behind it, and a chart of events and deliveries per hour."""

from datetime import timedelta
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from channels_app import selectors as inbound
from config.charts import hour_slots, hourly_lines_svg
from subscriptions import selectors as outbound
from webhooks import selectors as events

FIGURES_WINDOW = timedelta(hours=24)
FAILING_WINDOW = timedelta(days=7)
CHART_WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}


def _deliveries_url(**params) -> str:
    return f"{reverse('admin:subscriptions_delivery_changelist')}?{urlencode(params)}"


def _inbound_url(**params) -> str:
    return f"{reverse('admin:channels_app_inboundevent_changelist')}?{urlencode(params)}"


def dashboard_context(*, chart_window: str) -> dict:
    now = timezone.now()
    since = (now - FIGURES_WINDOW).isoformat(timespec="seconds")
    failing_since = (now - FAILING_WINDOW).isoformat(timespec="seconds")
    stats = outbound.delivery_stats(window=FIGURES_WINDOW)
    window = CHART_WINDOWS.get(chart_window, CHART_WINDOWS["24h"])
    slots = hour_slots(now, int(window.total_seconds() // 3600))
    chart = hourly_lines_svg(
        {
            "events": events.events_per_hour(window=window),
            "deliveries": outbound.deliveries_per_hour(window=window),
        },
        slots,
    )
    return {
        "stats": stats,
        "figures": [
            ("Deliveries (24 h)", stats.total, _deliveries_url(created_at__gte=since)),
            (
                "Succeeded",
                stats.succeeded,
                _deliveries_url(status__exact="succeeded", created_at__gte=since),
            ),
            (
                "Failed",
                stats.failed,
                _deliveries_url(status__exact="failed", created_at__gte=since),
            ),
            (
                "Pending",  # waiting or being sent, of the deliveries created in the window
                stats.pending,
                _deliveries_url(status__in="pending,delivering", created_at__gte=since),
            ),
            (
                "Success rate",
                "-" if stats.success_rate is None else f"{stats.success_rate:.1%}",
                _deliveries_url(created_at__gte=since),
            ),
            ("Retries due now", outbound.deliveries_due_count(), _deliveries_url(due="now")),
            (
                "Retries due later",
                outbound.deliveries_scheduled_count(),
                _deliveries_url(due="later"),
            ),
            (
                "Latency p50 / p95",
                f"{stats.latency_p50_ms or '-'} / {stats.latency_p95_ms or '-'} ms",
                _deliveries_url(created_at__gte=since),
            ),
        ],
        "inbound": [
            (
                row,
                _inbound_url(
                    platform=row["platform"], status__exact=row["status"], received_at__gte=since
                ),
            )
            for row in inbound.inbound_counts_by_platform_and_status(window=FIGURES_WINDOW)
        ],
        "inbound_dead": (
            inbound.inbound_events_dead_count(),
            _inbound_url(status__exact="dead"),
        ),
        "top_failing": [
            (
                row,
                _deliveries_url(
                    subscription__exact=row.subscription_id,
                    status__exact="failed",
                    created_at__gte=failing_since,
                ),
            )
            for row in outbound.subscriptions_top_failing(window=FAILING_WINDOW)
        ],
        "chart": chart,
        "chart_window": chart_window if chart_window in CHART_WINDOWS else "24h",
    }
