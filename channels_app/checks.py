"""A database check, run by `migrate` at every deploy: environment credentials need an owner.

Without one, webhooks sent with those credentials are answered 503 (the platform retries)
until a superuser exists or ENVIRONMENT_ACCOUNTS_OWNER names a user; this says so at start.
"""

from django.conf import settings
from django.core import checks
from django.db.utils import DatabaseError

from channels_app.services import environment_accounts_owner


@checks.register(checks.Tags.database)
def environment_accounts_have_an_owner(app_configs=None, databases=None, **kwargs):
    configured = [
        name
        for name in ("WEBHOOK_USERNAME", "SHOPIFY_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET")
        if getattr(settings, name, "")
    ]
    if not configured or not databases:
        return []
    try:
        owner = environment_accounts_owner()
    except DatabaseError:  # not migrated yet: migrate runs this before it creates the tables
        return []
    if owner is not None:
        return []
    return [
        checks.Warning(
            f"{', '.join(configured)} set, but no user owns the accounts they stand for: "
            "their webhooks are answered 503 until one does.",
            hint="Create a superuser (python manage.py createsuperuser) or set "
            "ENVIRONMENT_ACCOUNTS_OWNER to a username.",
            id="channels_app.W001",
        )
    ]
