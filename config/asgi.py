import os

from django.core.asgi import get_asgi_application

from config.tracing import tracing_configure

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Before Django builds its handler: the Django instrumentation adds a middleware.
tracing_configure(service_name="webhooks-stream")

application = get_asgi_application()

from config.checks import fail_on_errors  # noqa: E402  (needs the app registry loaded)

fail_on_errors()
