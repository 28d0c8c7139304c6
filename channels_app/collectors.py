"""The inbound backlog gauge, read from the database at each scrape: one module above the
platform packages, as it lists every built-in platform (at 0 when it has nothing waiting)."""

from prometheus_client.core import GaugeMetricFamily

from channels_app import selectors
from channels_app.platforms.registry import PLATFORMS


class InboundCollector:
    """The inbound log's backlog, read from the database at each scrape; every built-in
    platform is listed, at 0 when it has nothing waiting."""

    def collect(self):
        counts = selectors.inbound_events_backlog()
        backlog = GaugeMetricFamily(
            "inbound_backlog",
            "Stored inbound events by platform and status: received (not processed yet), "
            "failed (waiting for a retry) or dead (until reprocessed).",
            labels=["platform", "status"],
        )
        platforms = sorted(set(PLATFORMS) | {platform for platform, _ in counts})
        for platform in platforms:
            for status in selectors.BACKLOG_STATUSES:
                backlog.add_metric([platform, status], counts.get((platform, status), 0))
        yield backlog
