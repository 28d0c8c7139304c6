"""gunicorn settings for the web process; every value can be overridden by the environment."""

import os
import shutil
from pathlib import Path

bind = os.environ.get("WEB_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = os.environ.get("WEB_WORKER_CLASS", "sync")
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
# Our JSON access log line comes from the middleware, with the request id on it.
accesslog = None

# Metrics from every worker are merged through files in this folder (prometheus_client's
# multiprocess mode). It must be set before anything imports prometheus_client, which picks
# its storage at import: hence no import of it at the top of this file.
_metrics_dir = Path(
    os.environ.setdefault(
        "PROMETHEUS_MULTIPROC_DIR",
        str(
            Path(os.environ.get("VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
            / "prometheus"
        ),
    )
)


def on_starting(server):
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    _metrics_dir.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
