from django.urls import path

from channels_app.api import views

urlpatterns = [
    path("channels", views.ChannelAccountListView.as_view(), name="channels"),
    path("channels/<int:pk>", views.ChannelAccountDetailView.as_view(), name="channel"),
    # Included before the subscription routes and the inbound mounts of /api/webhooks/<platform>
    # in config/urls.py, and `register` is not an integer id: nothing else can take this path.
    path(
        "webhooks/register/<int:account_id>",
        views.ShopifyWebhooksRegisterView.as_view(),
        name="shopify-webhooks-register",
    ),
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
