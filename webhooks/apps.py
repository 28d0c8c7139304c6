from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Events and API access"

    def ready(self):
        # Registers the project's start-up system checks (config.checks) with Django.
        from config import checks  # noqa: F401
