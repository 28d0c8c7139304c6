"""Amazon feeds, reports and SNS subscriptions in the dashboard."""

from django.contrib import admin

from channels_app.platforms.amazon.models import ProcessingReport, SnsSubscription
from channels_app.projection_admin import ProjectionAdmin


@admin.register(ProcessingReport)
class ProcessingReportAdmin(ProjectionAdmin):
    """Amazon feeds and reports that finished, with the document to download."""

    list_display = ["kind", "external_id", "type", "processing_status", "document_id", "account",
                    "updated_at"]  # fmt: skip
    list_select_related = ["account"]
    list_filter = ["kind", "processing_status"]
    search_fields = ["=external_id", "=document_id", "type"]
    date_hierarchy = "updated_at"


@admin.register(SnsSubscription)
class SnsSubscriptionAdmin(ProjectionAdmin):
    """Amazon SNS subscriptions we confirmed, or failed to (with why)."""

    list_display = ["topic_arn", "account", "status", "created_at"]
    list_select_related = ["account"]
    list_filter = ["status"]
    search_fields = ["topic_arn", "account__name"]
    date_hierarchy = "created_at"
