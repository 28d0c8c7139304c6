#!/usr/bin/env python
"""The staff dashboard and delivery list on a million deliveries.

Fills database `bench_dashboard` (once; `--refill` to redo) with 1,000,000 events and
deliveries spread over the 30-day retention (1 % pending, 10 % failed, one attempt for every
fifth delivery) using generate_series, then times the admin pages in-process, three runs each,
and prints the slowest queries of the last run.

    .venv/bin/python bench/dashboard.py [--refill]
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import outbound as common  # the shared process and database helpers

DATABASE = "bench_dashboard"
ROWS = 1_000_000
PAGES = [
    "/admin/",
    "/admin/?window=7d",
    "/admin/subscriptions/delivery/",
    "/admin/subscriptions/delivery/?status__exact=failed",
    "/admin/subscriptions/delivery/?due=now",
    "/admin/webhooks/event/",
]

FILL_SQL = f"""
INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,
                       is_staff, is_active, date_joined)
VALUES ('!', true, 'bench-staff', '', '', '', true, true, now());
INSERT INTO subscriptions_subscription (owner_id, url, event_types, description, is_active,
    retry_count, timeout_seconds, secret, disabled_reason, consecutive_failures,
    created_at, updated_at)
SELECT (SELECT id FROM auth_user WHERE username = 'bench-staff'),
       'https://example.com/hook/' || g, '["*"]', '', true, 17, 10, '', '', 0, now(), now()
FROM generate_series(1, 100) g;
INSERT INTO webhooks_event (public_id, owner_id, event_type, source, data, created_at)
SELECT 'evt_bench' || g, (SELECT id FROM auth_user WHERE username = 'bench-staff'),
       (ARRAY['task.created', 'task.updated', 'email.sent', 'order.created'])[1 + g % 4],
       'api', '{{"n": 1}}', now() - (g * 2.592 || ' seconds')::interval
FROM generate_series(1, {ROWS}) g;
INSERT INTO subscriptions_delivery (event_id, subscription_id, status, attempt_count,
    next_attempt_at, last_error, created_at, updated_at)
SELECT e.id, (SELECT min(id) FROM subscriptions_subscription) + e.id % 100,
       CASE WHEN e.id % 100 = 0 THEN 'pending' WHEN e.id % 10 = 1 THEN 'failed'
            ELSE 'succeeded' END,
       1, CASE WHEN e.id % 100 = 0 THEN e.created_at END, '', e.created_at, e.created_at
FROM webhooks_event e;
INSERT INTO subscriptions_deliveryattempt (delivery_id, number, started_at, duration_ms,
    request_url, request_headers, response_status, response_headers, response_body,
    error_kind, error_message)
SELECT id, 1, created_at, id % 500, 'https://example.com', '{{}}', 200, '{{}}', '', '', ''
FROM subscriptions_delivery WHERE id % 5 = 0;
ANALYZE;
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refill", action="store_true")
    args = parser.parse_args()
    url = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
    common.os.environ.update(DATABASE_URL=url, ALLOWED_HOSTS="testserver")
    if args.refill:
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DATABASE],
                       check=True)  # fmt: skip
    common.DATABASE = DATABASE
    common.setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from subscriptions.models import Delivery

    if Delivery.objects.count() < ROWS:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(FILL_SQL)
        print(f"filled {ROWS:,} deliveries in {time.perf_counter() - started:.0f} s")
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-staff"))
    for page in PAGES:
        client.get(page)  # warm caches and connections
        timings = []
        for _ in range(3):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(page)
                timings.append((time.perf_counter() - started) * 1000)
        slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:2]
        print(f"{page:55} {response.status_code} ms {[round(t) for t in timings]} "
              f"queries {len(queries)}; slowest {[q['time'] for q in slowest]}")  # fmt: skip


if __name__ == "__main__":
    main()
