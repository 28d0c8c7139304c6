"""Qualia activities (with their message fetch) and messages in the dashboard."""

from django.contrib import admin

from channels_app.platforms.qualia import fetches
from channels_app.platforms.qualia.models import Activity, Message
from channels_app.projection_admin import ProjectionAdmin


@admin.register(Activity)
class ActivityAdmin(ProjectionAdmin):
    list_display = [
        "order_id", "activity_type", "account", "fetch_status", "fetch_attempts", "received_at",
    ]  # fmt: skip
    list_select_related = ["account"]
    list_filter = ["activity_type", "fetch_status", "received_at"]
    search_fields = ["=order_id", "=message_id"]
    actions = ["fetch_message_again"]

    @admin.action(description="Fetch the message again (fetches that gave up)")
    def fetch_message_again(self, request, queryset):
        count = fetches.message_fetches_retry(activities=queryset)
        self.message_user(request, f"{count} fetch(es) due again; the sweep queues them.")


@admin.register(Message)
class MessageAdmin(ProjectionAdmin):
    list_display = ["order_id", "message_id", "from_name", "created_date", "read"]
    list_select_related = ["account"]
    search_fields = ["=order_id", "=message_id", "from_name"]
