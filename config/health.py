"""Liveness, readiness and the detailed health report.

`/health/live` does no I/O (the process answers). `/health/ready` checks what a request needs,
the database and the broker, and answers 503 naming the failed check. `/health` adds each
check's latency, the version and the pending-work counts the apps register in
`HEALTH_PENDING_WORK` (name → dotted path of a function returning an int).
"""

import logging
import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET

from config.celery import app as celery_app
from webhooks.services import worker_heartbeat_age_seconds

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    with celery_app.connection_for_write(connect_timeout=CHECK_TIMEOUT_SECONDS) as broker:
        broker.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)


READINESS_CHECKS = {"database": _database, "broker": _broker}


def run_checks() -> dict[str, dict]:
    results = {}
    for name, check in READINESS_CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # any failure means "not ready"; the reason goes to the log
            logger.warning("health.check_failed", extra={"check": name, "error": repr(exc)})
            results[name] = {"ok": False, "error": type(exc).__name__}
        else:
            results[name] = {"ok": True}
        results[name]["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return results


def pending_work() -> dict[str, int | None]:
    counts = {}
    for name, path in getattr(settings, "HEALTH_PENDING_WORK", {}).items():
        try:
            counts[name] = import_string(path)()
        except Exception:
            logger.exception("health.pending_work_failed", extra={"counter": name})
            counts[name] = None
    return counts


def _heartbeat_age() -> float | None:
    try:
        return worker_heartbeat_age_seconds()
    except Exception:  # the cache (Redis) being down must not turn the report into a 500
        logger.warning("health.heartbeat_unavailable", exc_info=True)
        return None


def _status(checks: dict) -> tuple[str, int]:
    failed = [name for name, result in checks.items() if not result["ok"]]
    return ("ok", 200) if not failed else ("unavailable: " + ", ".join(failed), 503)


@require_GET
def live(request):
    return JsonResponse({"status": "ok"})


@require_GET
def ready(request):
    checks = run_checks()
    status, code = _status(checks)
    return JsonResponse({"status": status, "checks": checks}, status=code)


@require_GET
def detail(request):
    checks = run_checks()
    status, code = _status(checks)
    body = {
        "status": status,
        "version": settings.APP_VERSION,
        "checks": checks,
        "pending_work": pending_work() if checks["database"]["ok"] else {},
        "worker_last_seen_seconds_ago": _heartbeat_age(),
    }
    return JsonResponse(body, status=code)
