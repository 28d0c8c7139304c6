import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()

from config.checks import fail_on_errors  # noqa: E402  (needs the app registry loaded)

fail_on_errors()
