from django.urls import include, path

from channels_app.api import views
from channels_app.platforms import platform_modules

urlpatterns = [
    path("channels", views.ChannelAccountListView.as_view(), name="channels"),
    path("channels/<int:pk>", views.ChannelAccountDetailView.as_view(), name="channel"),
    path("inbound-events", views.InboundEventListView.as_view(), name="inbound-events"),
    path(
        "inbound-events/reprocess",
        views.InboundEventReprocessView.as_view(),
        name="inbound-events-reprocess",
    ),
    # Each platform package's own API (its `urls` module), under /api/ too.
    *(path("", include(module)) for module in platform_modules("urls")),
]
