from django.apps import AppConfig


class ChannelsAppConfig(AppConfig):
    name = "channels_app"
    verbose_name = "Inbound channels"

    def ready(self):
        from channels_app import checks  # noqa: F401  (registers the check)
