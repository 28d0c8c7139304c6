"""Stripe payments in the dashboard."""

from django.contrib import admin

from channels_app.platforms.stripe.models import Payment
from channels_app.projection_admin import ProjectionAdmin


@admin.register(Payment)
class PaymentAdmin(ProjectionAdmin):
    list_display = ["external_id", "kind", "status", "amount", "currency", "customer", "account"]
    list_select_related = ["account"]
    list_filter = ["kind", "status"]
    search_fields = ["=external_id", "=customer"]
