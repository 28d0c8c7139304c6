import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


# Sent when a worker (or beat) loads its modules. Connected before the app exists, so it runs
# before Celery's Django fixup, whose django.setup() and system checks import the URLs and with
# them prometheus_client: the metrics a worker records (deliveries, inbound processing) then
# go to the folder the web's /metrics reads. Web processes never send this signal.
@signals.import_modules.connect
def _metrics_shared_with_web(**kwargs):
    from config.metrics_dir import metrics_dir_reset_if_unused, metrics_dir_use

    metrics_dir_reset_if_unused(metrics_dir_use())


app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

REQUEST_ID_TASK_HEADER = "request_id"


# Sent when a worker or beat loads its modules, before beat's scheduler touches the database.
@signals.import_modules.connect
def _refuse_to_start_misconfigured(**kwargs):
    from django.core.exceptions import ImproperlyConfigured

    from config.checks import fail_on_errors

    try:
        fail_on_errors()
    except ImproperlyConfigured as exc:
        # Celery logs and swallows exceptions from signal handlers; SystemExit it lets through.
        raise SystemExit(str(exc)) from exc


# Each prefork child, once forked: an exporter's thread does not survive a fork, and the
# instrumented task signals must be connected where tasks run.
@signals.worker_process_init.connect
def _tracing_in_each_child(**kwargs):
    from config.tracing import tracing_configure

    tracing_configure(service_name="webhooks-worker")


@signals.before_task_publish.connect
def _carry_request_id(headers=None, **kwargs):
    """Put the enqueuing request's id on the task message, so the task logs under it."""
    from webhooks.request_ids import current_request_id

    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_TASK_HEADER, request_id)


@signals.task_prerun.connect
def _bind_task_request_id(task=None, **kwargs):
    from webhooks.request_ids import bind_request_id

    request_id = getattr(task.request, REQUEST_ID_TASK_HEADER, None) or task.request.id
    task.request.request_id_token = bind_request_id(request_id)


@signals.task_postrun.connect
def _unbind_task_request_id(task=None, **kwargs):
    from webhooks.request_ids import reset_request_id

    token = getattr(task.request, "request_id_token", None)
    if token is not None:
        reset_request_id(token)
