import json

from django.contrib import admin, messages
from django.utils.html import format_html

from webhooks import catalog
from webhooks.lineage import event_causes
from webhooks.models import ApiToken, Event
from webhooks.services import api_token_create


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at"]
    list_select_related = ["user"]
    list_filter = ["created_at"]
    search_fields = ["name", "prefix", "user__username", "user__email"]
    date_hierarchy = "created_at"
    fields = ["user", "name", "prefix", "created_at", "last_used_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    autocomplete_fields = ["user"]

    def has_change_permission(self, request, obj=None):
        # A token is created or revoked (deleted), never edited.
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        token, raw_token = api_token_create(user=obj.user, name=obj.name)
        obj.pk = token.pk
        obj.prefix, obj.key_hash, obj.created_at = token.prefix, token.key_hash, token.created_at
        messages.warning(
            request, f"Token for {obj.user}: {raw_token} — copy it now, it will not be shown again."
        )


class EventTypeFilter(admin.SimpleListFilter):
    """Event types from the catalog, not from a DISTINCT over millions of rows."""

    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request, model_admin):
        return [(t.name, t.name) for t in catalog.event_types()]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        field = "event_type" if queryset.model is Event else "event__event_type"
        return queryset.filter(**{field: self.value()})


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["public_id", "event_type", "owner", "source", "created_at"]
    list_select_related = ["owner"]
    list_filter = [EventTypeFilter, "created_at"]
    search_fields = ["=public_id", "=idempotency_key"]
    readonly_fields = [
        "public_id",
        "owner",
        "event_type",
        "source",
        "data_pretty",
        "idempotency_key",
        "caused_by",
        "created_at",
    ]
    exclude = ["data"]
    show_full_result_count = False

    @admin.display(description="data")
    def data_pretty(self, event):
        return format_html("<pre>{}</pre>", json.dumps(event.data, indent=2, ensure_ascii=False))

    @admin.display(description="caused by")
    def caused_by(self, event):
        """Lineage: what made it (webhooks.lineage), linked to its own admin page."""
        cause = event_causes([event]).get(event.pk)
        if cause is None:
            return "—"
        return format_html(
            '<a href="{}">{} #{}</a>', cause["admin_url"], cause["type"], cause["id"]
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
