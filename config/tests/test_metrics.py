"""/metrics across processes: what Celery's prefork children record shows on the web's
/metrics (gunicorn), through the multiprocess folder they share."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from channels_app.models import InboundEvent
from channels_app.platforms.shopify.tests.case import shopify
from config.metrics_dir import metrics_dir_reset_if_unused
from config.tests.scrape import Scrape
from conftest import (
    child_env,
    database_url_for_children,
    start_celery_worker,
    start_web_server,
    wait_until,
)
from subscriptions.models import Delivery
from subscriptions.services import subscription_create
from webhooks.services import event_publish


def scrape(base_url: str) -> Scrape:
    response = requests.get(f"{base_url}/metrics", timeout=10)
    assert response.status_code == 200
    return Scrape(response.text)


@pytest.mark.server
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_deliveries_and_processing_in_a_worker_show_on_the_webs_metrics(user, receiver, tmp_path):
    env = child_env(
        DATABASE_URL=database_url_for_children(),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
    )
    worker = start_celery_worker(env, tmp_path / "worker.log")
    web, base_url = start_web_server(env, tmp_path / "web.log", workers=2)
    try:
        subscription_create(owner=user, url=receiver.url, event_types=["task.*"])
        shopify.account_create(user)
        body = shopify.fixture("orders_create")
        answer = requests.post(
            f"{base_url}/webhooks/shopify",
            data=body,
            headers=shopify.signed_headers(body, "orders/create", "wh-1"),
            timeout=10,
        )
        event_publish(owner=user, event_type="task.created", data={"n": 1})
        wait_until(lambda: Delivery.objects.filter(status="succeeded").count() == 1)
        wait_until(lambda: InboundEvent.objects.filter(status="processed").count() == 1)

        seen = scrape(base_url)
        web.stop()  # the web restarts while the worker runs: the worker's counts stay
        web, base_url = start_web_server(env, tmp_path / "web-again.log")
        again = scrape(base_url)
    finally:
        web.stop()
        worker.stop()

    assert answer.status_code == 200
    for metrics in (seen, again):
        assert metrics.value("inbound_received_total", platform="shopify", status="200") == 1
        assert (
            metrics.value("inbound_processed_total", platform="shopify", outcome="processed") == 1
        )
        assert metrics.value("inbound_queue_wait_seconds_count", platform="shopify") == 1
        assert metrics.value("outbound_deliveries_total", outcome="succeeded") == 1
        assert metrics.value("outbound_attempt_duration_seconds_count", outcome="succeeded") == 1
        assert metrics.value("outbound_queue_wait_seconds_count") == 1
        assert metrics.value("outbound_backlog", due="now") == 0


def test_the_folder_is_emptied_only_when_no_process_that_wrote_there_runs(tmp_path):
    running = subprocess.Popen(["sleep", "30"])
    try:
        gone = subprocess.Popen(["true"])
        gone.wait()
        (tmp_path / f"counter_{gone.pid}.db").write_bytes(b"")
        (tmp_path / f"histogram_{running.pid}.db").write_bytes(b"")

        assert not metrics_dir_reset_if_unused(tmp_path)
        assert len(list(tmp_path.iterdir())) == 2
    finally:
        running.kill()
        running.wait()

    assert metrics_dir_reset_if_unused(tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert os.path.isdir(tmp_path)


@pytest.mark.django_db
def test_every_metric_the_grafana_dashboard_queries_is_on_metrics(client):
    dashboard = json.loads((Path(__file__).parents[1] / "grafana" / "webhooks.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    queried = {
        re.sub(r"_(bucket|count|sum|total)$", "", name)
        for expr in exprs
        for name in re.findall(r"\b(?:outbound|inbound|http)_[a-z_]+", expr)
    }
    exposed = {
        family.name
        for family in text_string_to_metric_families(client.get("/metrics").content.decode())
        if not family.name.endswith("_created")  # single-process mode's creation times
    }

    assert len(exprs) >= 20
    assert queried - exposed == set()
    assert {name for name in exposed if name.startswith(("outbound_", "inbound_"))} <= queried
