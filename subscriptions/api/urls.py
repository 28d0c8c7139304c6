"""Outbound routes. Fixed paths come before `<int:pk>`, and ids only ever match integers, so a
subscription id can never be mistaken for an inbound platform name under /api/webhooks/."""

from django.urls import path

from subscriptions.api import views

urlpatterns = [
    path("webhooks", views.SubscriptionListView.as_view(), name="subscriptions"),
    path("webhooks/event-types", views.EventTypeListView.as_view(), name="event-types"),
    path("webhooks/<int:pk>", views.SubscriptionDetailView.as_view(), name="subscription"),
    path("webhooks/<int:pk>/test", views.SubscriptionTestView.as_view(), name="subscription-test"),
    path(
        "webhooks/<int:pk>/rotate-secret",
        views.SubscriptionRotateSecretView.as_view(),
        name="subscription-rotate-secret",
    ),
    path(
        "webhooks/<int:pk>/recover",
        views.SubscriptionRecoverView.as_view(),
        name="subscription-recover",
    ),
    path(
        "webhooks/<int:pk>/replay-missing",
        views.SubscriptionReplayMissingView.as_view(),
        name="subscription-replay-missing",
    ),
    path(
        "webhooks/<int:pk>/stats", views.SubscriptionStatsView.as_view(), name="subscription-stats"
    ),
    path("webhooks/<int:pk>/deliveries", views.DeliveryListView.as_view(), name="deliveries"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_id>",
        views.DeliveryDetailView.as_view(),
        name="delivery",
    ),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_id>/retry",
        views.DeliveryRetryView.as_view(),
        name="delivery-retry",
    ),
    path("events", views.EventListView.as_view(), name="events"),
    path("events/<str:public_id>", views.EventDetailView.as_view(), name="event"),
]
