"""Start-up checks: production refuses to run without its secrets.

Registered as Django system checks (so `manage.py check`, `migrate` and `runserver` report
them) and run again by the WSGI/ASGI entry points and the Celery app, which Django's check
framework does not cover, so gunicorn and the worker stop too.
"""

from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def _secret_key_is_set() -> bool:
    # Django itself raises on reading an empty SECRET_KEY; we want the check's message instead.
    try:
        return bool(settings.SECRET_KEY)
    except ImproperlyConfigured:
        return False


@checks.register("config")
def required_secrets(app_configs=None, **kwargs):
    errors = []
    if not _secret_key_is_set():
        errors.append(
            checks.Error(
                "SECRET_KEY is not set.",
                hint="Set the SECRET_KEY environment variable (with DEBUG off none is generated).",
                id="config.E001",
            )
        )
    if not settings.FIELD_ENCRYPTION_KEYS:
        errors.append(
            checks.Error(
                "FIELD_ENCRYPTION_KEYS is not set.",
                hint=(
                    "Set FIELD_ENCRYPTION_KEYS to one or more comma-separated Fernet keys "
                    "(python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())')."
                ),
                id="config.E002",
            )
        )
    for position, key in enumerate(settings.FIELD_ENCRYPTION_KEYS, start=1):
        try:
            Fernet(key)
        except ValueError:
            errors.append(
                checks.Error(
                    f"FIELD_ENCRYPTION_KEYS entry {position} is not a Fernet key.",
                    hint="Each key is 32 url-safe base64-encoded bytes (Fernet.generate_key()).",
                    id="config.E003",
                )
            )
    if not settings.ALLOWED_HOSTS:
        errors.append(
            checks.Error(
                "ALLOWED_HOSTS is empty: every request, health checks included, would be a 400.",
                hint="Set ALLOWED_HOSTS to the host names the service answers on.",
                id="config.E004",
            )
        )
    return errors


def fail_on_errors() -> None:
    """Raise at start-up when a `config` check fails, with every message in one error."""
    errors = checks.run_checks(tags=["config"])
    if errors:
        raise ImproperlyConfigured(
            "Refusing to start:\n" + "\n".join(f"  {e.id}: {e.msg} {e.hint}" for e in errors)
        )
