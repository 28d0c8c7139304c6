"""The inbound part of the staff dashboard: accounts, the raw log (read-only), activities."""

import json

from django.contrib import admin
from django.utils.html import format_html

from channels_app import services
from channels_app.models import Activity, ChannelAccount, InboundEvent
from channels_app.platforms.registry import PLATFORMS


@admin.register(ChannelAccount)
class ChannelAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "platform", "external_id", "owner", "is_active", "created_at"]
    list_select_related = ["owner"]
    list_filter = ["platform", "is_active"]
    search_fields = ["name", "external_id", "owner__username"]
    # Secrets and the password hash are write-only: never displayed.
    exclude = ["secret", "password_hash"]
    readonly_fields = ["receive_key", "created_at"]


class PlatformFilter(admin.SimpleListFilter):
    """Platforms from the registry, not from a DISTINCT over the whole log."""

    title = "platform"
    parameter_name = "platform"

    def lookups(self, request, model_admin):
        return [(name, name) for name in sorted(PLATFORMS)]

    def queryset(self, request, queryset):
        return queryset.filter(platform=self.value()) if self.value() else queryset


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin):
    list_display = ["id", "platform", "topic", "account", "status", "attempts", "received_at"]
    list_select_related = ["account"]
    list_filter = ["status", PlatformFilter, "received_at"]
    search_fields = ["=external_id", "topic"]
    show_full_result_count = False
    exclude = ["body"]
    readonly_fields = ["body_pretty"]
    actions = ["reprocess"]

    @admin.display(description="body")
    def body_pretty(self, event):
        raw = bytes(event.body)
        try:
            text = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
        except ValueError:
            text = raw.decode("utf-8", errors="replace")
        return format_html("<pre>{}</pre>", text)  # escaped: a body is untrusted input

    @admin.action(description="Reprocess")
    def reprocess(self, request, queryset):
        count = services.inbound_events_reprocess(events=queryset)
        self.message_user(request, f"Queued {count} event(s) for processing.")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["order_id", "activity_type", "account", "received_at"]
    list_select_related = ["account"]
    list_filter = ["activity_type", "received_at"]
    search_fields = ["=order_id", "=message_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
