"""The Celery wiring, proven with a real worker process on the test broker."""

import json

import pytest
from django.core.cache import cache

from conftest import wait_until
from webhooks.request_ids import bind_request_id, reset_request_id
from webhooks.services import worker_heartbeat_age_seconds
from webhooks.tasks import worker_heartbeat_task

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_task_runs_in_a_real_worker_and_logs_under_the_enqueuing_request_id(celery_worker):
    cache.clear()
    token = bind_request_id("req-from-a-web-request")
    try:
        worker_heartbeat_task.delay()
    finally:
        reset_request_id(token)

    wait_until(lambda: worker_heartbeat_age_seconds() is not None)
    heartbeat_lines = wait_until(
        lambda: [
            json.loads(line)
            for line in celery_worker.log().splitlines()
            if line.startswith("{") and '"worker.heartbeat"' in line
        ]
    )
    assert heartbeat_lines[0]["request_id"] == "req-from-a-web-request"
