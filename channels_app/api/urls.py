from django.urls import path

from channels_app.api import views

urlpatterns = [
    path("channels", views.ChannelAccountListView.as_view(), name="channels"),
    path("channels/<int:pk>", views.ChannelAccountDetailView.as_view(), name="channel"),
    path("inbound-events", views.InboundEventListView.as_view(), name="inbound-events"),
    path(
        "inbound-events/reprocess",
        views.InboundEventReprocessView.as_view(),
        name="inbound-events-reprocess",
    ),
    path(
        "qualia/orders/<str:order_id>/activities",
        views.QualiaOrderActivitiesView.as_view(),
        name="qualia-order-activities",
    ),
    path(
        "qualia/orders/<str:order_id>/messages",
        views.QualiaOrderMessagesView.as_view(),
        name="qualia-order-messages",
    ),
]
