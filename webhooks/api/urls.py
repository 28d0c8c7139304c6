from django.urls import path

from webhooks.api import views

urlpatterns = [
    path("tokens", views.ApiTokenListView.as_view(), name="api-tokens"),
    path("tokens/<int:pk>", views.ApiTokenDetailView.as_view(), name="api-token-detail"),
    path("portal-links", views.PortalLinkCreateView.as_view(), name="api-portal-links"),
]
