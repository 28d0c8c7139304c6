import os

from django.core.wsgi import get_wsgi_application

from config.tracing import tracing_configure

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Before Django builds its handler: the Django instrumentation adds a middleware.
tracing_configure(service_name="webhooks-web")

application = get_wsgi_application()

from config.checks import fail_on_errors  # noqa: E402  (needs the app registry loaded)

fail_on_errors()
