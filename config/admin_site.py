from django.contrib import admin

from config.dashboard import dashboard_context


class PlatformAdminSite(admin.AdminSite):
    """The staff dashboard: Django's admin, opening on an overview of the platform."""

    site_header = "Webhook Platform"
    site_title = "Webhook Platform"
    index_title = "Dashboard"
    index_template = "admin/dashboard.html"

    def index(self, request, extra_context=None):
        context = {"dashboard": dashboard_context(chart_window=request.GET.get("window", "24h"))}
        return super().index(request, extra_context={**context, **(extra_context or {})})
