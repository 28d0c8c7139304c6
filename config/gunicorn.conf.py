"""gunicorn settings for the web process; every value can be overridden by the environment."""

import os

from config.metrics_dir import metrics_dir_reset_if_unused, metrics_dir_use

bind = os.environ.get("WEB_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = os.environ.get("WEB_WORKER_CLASS", "sync")
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
# Our JSON access log line comes from the middleware, with the request id on it.
accesslog = None

# Flipkart signs its notifications in `X_Date` and `X_Authorization`: header names with
# underscores, which gunicorn >= 22 drops by default (header_map="drop") because under WSGI
# `X_Date` and `X-Date` both become HTTP_X_DATE and the app cannot tell which was sent.
# header_map="dangerous" would admit every such name, letting a client slip e.g.
# `X_Forwarded_For` past a proxy that only manages the dashed spelling. Instead we admit just
# these two names: gunicorn maps a name listed in forwarder_headers whatever header_map says,
# and only from a peer in forwarded_allow_ips (our reverse proxy; 127.0.0.1 and ::1 unless
# FORWARDED_ALLOW_IPS says otherwise). Conflating the spellings is harmless for these two: the
# app reads them only to check Flipkart's signature, which covers the date, so a forged value
# of either spelling fails, and both spellings at once are joined into a value that fails too.
# The proxy must pass them on (nginx: `underscores_in_headers on;`). SCRIPT_NAME and PATH_INFO
# are gunicorn's defaults for this setting, kept.
forwarder_headers = os.environ.get(
    "WEB_FORWARDER_HEADERS", "SCRIPT_NAME,PATH_INFO,X_DATE,X_AUTHORIZATION"
)
header_map = "drop"

# Metrics from every worker, and from the Celery workers on this machine, are merged through
# files in this folder (prometheus_client's multiprocess mode). It must be set before anything
# imports prometheus_client, which picks its storage at import: hence no import of it at the
# top of this file.
_metrics_dir = metrics_dir_use()


def on_starting(server):
    metrics_dir_reset_if_unused(_metrics_dir)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
