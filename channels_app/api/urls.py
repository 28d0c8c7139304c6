from django.urls import path

from channels_app.api import views

urlpatterns = [
    path("inbound-events", views.InboundEventListView.as_view(), name="inbound-events"),
    path(
        "inbound-events/reprocess",
        views.InboundEventReprocessView.as_view(),
        name="inbound-events-reprocess",
    ),
]
