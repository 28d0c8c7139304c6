from django.urls import path

from channels_app.platforms.qualia import api

urlpatterns = [
    path(
        "qualia/orders/<str:order_id>/activities",
        api.QualiaOrderActivitiesView.as_view(),
        name="qualia-order-activities",
    ),
    path(
        "qualia/orders/<str:order_id>/messages",
        api.QualiaOrderMessagesView.as_view(),
        name="qualia-order-messages",
    ),
]
