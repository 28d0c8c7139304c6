from django.urls import path

from channels_app.platforms.shopify import api

urlpatterns = [
    # Included (through channels_app.api.urls) before the subscription routes and the inbound
    # mounts of /api/webhooks/<platform> in config/urls.py, and `register` is not an integer
    # id: nothing else can take this path.
    path(
        "webhooks/register/<int:account_id>",
        api.ShopifyWebhooksRegisterView.as_view(),
        name="shopify-webhooks-register",
    ),
]
