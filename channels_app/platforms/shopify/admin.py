"""Shopify stores, catalogue, stock and webhook registrations in the dashboard, and the
account action that registers our webhooks on a shop."""

from django.contrib import admin, messages

from channels_app.platforms.shopify.models import (
    InventoryLevel,
    Product,
    Store,
    Variant,
    WebhookRegistration,
)
from channels_app.platforms.shopify.registration import RegistrationError, shopify_webhooks_register
from channels_app.projection_admin import ProjectionAdmin, ProjectionInline


class VariantInline(ProjectionInline):
    model = Variant


@admin.register(Product)
class ProductAdmin(ProjectionAdmin):
    list_display = ["title", "external_id", "account", "status", "remote_updated_at"]
    list_select_related = ["account"]
    search_fields = ["=external_id", "title"]
    inlines = [VariantInline]


@admin.register(InventoryLevel)
class InventoryLevelAdmin(ProjectionAdmin):
    list_display = ["inventory_item_id", "location_id", "available", "variant", "account"]
    list_select_related = ["account", "variant"]
    search_fields = ["=inventory_item_id", "=location_id"]


@admin.register(Store)
class StoreAdmin(ProjectionAdmin):
    list_display = ["account", "installed", "uninstalled_at"]
    list_select_related = ["account"]
    list_filter = ["installed"]


@admin.register(WebhookRegistration)
class WebhookRegistrationAdmin(ProjectionAdmin):
    """Written by the "Register Shopify webhooks" action and the register API only."""

    list_display = ["account", "topic", "address", "remote_id", "updated_at"]
    list_select_related = ["account"]
    list_filter = ["topic"]
    search_fields = ["account__external_id", "=remote_id"]


@admin.action(description="Register Shopify webhooks")
def register_shopify_webhooks(modeladmin, request, queryset):
    for account in queryset.order_by("pk"):
        try:
            result = shopify_webhooks_register(account=account)
        except RegistrationError as exc:
            modeladmin.message_user(request, f"{account}: {exc.message}", messages.ERROR)
            continue
        failures = "; ".join(f"{r.topic}: {r.error}" for r in result.failed)
        modeladmin.message_user(
            request,
            result.summary() + (f" ({failures})" if failures else ""),
            messages.WARNING if failures else messages.SUCCESS,
        )
        for warning in result.warnings:
            modeladmin.message_user(request, f"{account}: {warning}", messages.WARNING)


# Offered on the channel accounts' list (channels_app.admin).
ACCOUNT_ACTIONS = [register_shopify_webhooks]
