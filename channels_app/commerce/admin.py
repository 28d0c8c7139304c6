"""Orders, their line items, fulfillments and refunds, and shipments, in the dashboard."""

from django.contrib import admin

from channels_app.commerce.models import Fulfillment, LineItem, Order, Refund, Shipment
from channels_app.projection_admin import ProjectionAdmin, ProjectionInline


class LineItemInline(ProjectionInline):
    model = LineItem


class FulfillmentInline(ProjectionInline):
    model = Fulfillment


class RefundInline(ProjectionInline):
    model = Refund


@admin.register(Order)
class OrderAdmin(ProjectionAdmin):
    list_display = ["name", "external_id", "account", "financial_status", "fulfillment_status",
                    "total_price", "currency", "remote_updated_at"]  # fmt: skip
    list_select_related = ["account"]
    list_filter = ["financial_status", "fulfillment_status"]
    search_fields = ["=external_id", "name", "email"]
    inlines = [LineItemInline, FulfillmentInline, RefundInline]


@admin.register(Shipment)
class ShipmentAdmin(ProjectionAdmin):
    """Flipkart and Selloship shipments (returns are `return-<id>`), with their tracking."""

    list_display = ["external_id", "awb", "courier", "status", "order", "account",
                    "remote_updated_at"]  # fmt: skip
    list_select_related = ["account", "order"]
    list_filter = ["status", "courier"]
    search_fields = ["=external_id", "=awb", "=order__external_id"]
    date_hierarchy = "updated_at"
