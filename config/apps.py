from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class PlatformAdminConfig(AdminConfig):
    default_site = "config.admin_site.PlatformAdminSite"


class ProjectConfig(AppConfig):
    """The project's wiring as an app of its own, so it registers its own system checks."""

    name = "config"
    verbose_name = "Project"

    def ready(self):
        # Registers the start-up checks (config.checks) with Django.
        from config import checks  # noqa: F401
