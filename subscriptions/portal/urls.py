from django.contrib.auth.views import LogoutView
from django.urls import path

from subscriptions.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.endpoint_list, name="endpoints"),
    path("login", views.PortalLoginView.as_view(), name="login"),
    path("logout", LogoutView.as_view(next_page="portal:login"), name="logout"),
    path("link/<str:token>", views.link_redeem, name="link"),
    path("filter-check", views.filter_check, name="filter-check"),
    path("endpoints/new", views.endpoint_create, name="endpoint-create"),
    path("endpoints/<int:pk>", views.endpoint_detail, name="endpoint"),
    path("endpoints/<int:pk>/edit", views.endpoint_edit, name="endpoint-edit"),
    path("endpoints/<int:pk>/test", views.endpoint_test, name="endpoint-test"),
    path("endpoints/<int:pk>/rotate-secret", views.endpoint_rotate, name="endpoint-rotate"),
    path("endpoints/<int:pk>/recover", views.endpoint_recover, name="endpoint-recover"),
    path(
        "endpoints/<int:pk>/replay-missing",
        views.endpoint_replay_missing,
        name="endpoint-replay-missing",
    ),
    path("endpoints/<int:pk>/deliveries", views.delivery_list, name="deliveries"),
    path("endpoints/<int:pk>/deliveries/<int:delivery_id>", views.delivery_detail, name="delivery"),
    path(
        "endpoints/<int:pk>/deliveries/<int:delivery_id>/retry",
        views.delivery_retry,
        name="delivery-retry",
    ),
]
