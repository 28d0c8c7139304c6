from django.contrib import admin
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from channels_app.platforms.registry import PLATFORMS
from channels_app.views import platform_webhook
from config import errors, health, lineage
from config.observability import metrics_text
from webhooks import stream
from webhooks.views import live_page


@require_GET
def metrics(request):
    return HttpResponse(metrics_text(), content_type="text/plain; version=0.0.4; charset=utf-8")


def health_routes(prefix: str, name_prefix: str) -> list:
    return [
        path(prefix, health.detail, name=f"{name_prefix}health"),
        path(f"{prefix}/live", health.live, name=f"{name_prefix}health-live"),
        path(f"{prefix}/ready", health.ready, name=f"{name_prefix}health-ready"),
    ]


urlpatterns = [
    *health_routes("health", ""),
    *health_routes("api/v1/health", "v1-"),
    path("metrics", metrics, name="metrics"),
    # Paths a platform's clients post to besides /webhooks/<platform> (Qualia's /webhook/activity).
    *(
        path(route, platform_webhook, {"platform": platform.name}, name=f"{platform.name}-receiver")
        for platform in PLATFORMS.values()
        for route in platform.receiver_paths
    ),
    path("api/", include("channels_app.api.urls")),
    path(
        "api/inbound-events/<int:pk>",
        lineage.InboundEventLineageView.as_view(),
        name="inbound-event",
    ),
    # Streams first: /api/events/<id> would otherwise take "stream" for an event id.
    path("api/events/stream", stream.event_stream, name="event-stream"),
    path("api/webhooks/events/stream", stream.event_stream, name="webhook-event-stream"),
    path("api/webhooks/events/stream/stats", stream.event_stream_stats, name="event-stream-stats"),
    path("api/", include("webhooks.api.urls")),
    path("api/", include("subscriptions.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("dashboard/live", live_page, name="live"),
    path("portal/", include("subscriptions.portal.urls")),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # Inbound receivers, after the outbound API so its fixed routes win; a platform name is
    # never an integer, so it cannot collide with /api/webhooks/<int:id>.
    *(
        route
        for prefix in ("webhooks/", "api/webhooks/", "api/v1/webhooks/")
        for route in (
            path(f"{prefix}<slug:platform>", platform_webhook),
            path(f"{prefix}<slug:platform>/<path:topic>", platform_webhook),
        )
    ),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.not_found
handler500 = errors.server_error
