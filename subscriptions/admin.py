"""The outbound part of the staff dashboard. Logs are read-only; actions call services."""

from django.contrib import admin, messages
from django.db import models
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html

from subscriptions import services
from subscriptions.models import Delivery, DeliveryAttempt, Subscription
from webhooks.admin import EventAdmin, EventTypeFilter
from webhooks.models import Event


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = [
        "id", "url", "owner", "is_active", "event_types", "max_in_flight",
        "rate_limit_per_second", "consecutive_failures", "paused_until", "created_at",
    ]  # fmt: skip
    list_select_related = ["owner"]
    list_filter = ["is_active", "created_at"]
    search_fields = ["url", "description", "owner__username"]
    date_hierarchy = "created_at"
    # The secret and the custom headers' values are never shown: not as a field, not in a list.
    exclude = ["secret", "previous_secret", "headers"]
    readonly_fields = [
        "custom_headers", "filter", "filter_path", "previous_secret_expires_at",
        "consecutive_failures", "paused_until", "failing_since", "throttled_until", "deleted_at",
        "created_at", "updated_at",
    ]  # fmt: skip
    actions = ["send_test", "rotate_secret", "enable", "disable"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6's default

    @admin.display(description="Custom headers")
    def custom_headers(self, subscription) -> str:
        """Names only: the values are the receiver's credentials (set them through the API)."""
        return ", ".join(subscription.headers) or "—"

    @admin.action(description="Send a test event now")
    def send_test(self, request, queryset):
        for subscription in queryset:
            result = services.subscription_test_send(subscription=subscription)
            level = messages.SUCCESS if result.success else messages.WARNING
            self.message_user(
                request,
                f"#{subscription.pk}: {'delivered' if result.success else 'failed'} "
                f"({result.status_code or result.error}, {result.response_time_ms} ms)",
                level,
            )

    @admin.action(description="Rotate secret (old one signs for 24 h more)")
    def rotate_secret(self, request, queryset):
        """The new secrets are shown once, on this response (never in a stored message)."""
        rotated = [
            services.subscription_rotate_secret(subscription=subscription)
            for subscription in queryset.select_related("owner")
        ]
        # Admin views are never_cache: the page is not stored anywhere either.
        return TemplateResponse(
            request,
            "admin/subscriptions/rotated_secrets.html",
            {**self.admin_site.each_context(request), "title": "New secrets",
             "subscriptions": rotated},
        )  # fmt: skip

    @admin.action(description="Enable")
    def enable(self, request, queryset):
        for subscription in queryset:
            services.subscription_update(subscription=subscription, is_active=True)
        self.message_user(request, f"Enabled {queryset.count()} subscription(s).")

    @admin.action(description="Disable")
    def disable(self, request, queryset):
        for subscription in queryset:
            services.subscription_update(subscription=subscription, is_active=False)
        self.message_user(request, f"Disabled {queryset.count()} subscription(s).")


class DueFilter(admin.SimpleListFilter):
    """Pending deliveries due now (the retry queue) or scheduled for later."""

    title = "due"
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("now", "Due now"), ("later", "Scheduled later")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "now":
            return queryset.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        if self.value() == "later":
            return queryset.filter(status=Delivery.Status.PENDING, next_attempt_at__gt=now)
        return queryset


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = [
        "number", "started_at", "duration_ms", "response_status", "error_kind", "error_message",
        "response_body",
    ]  # fmt: skip


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id", "event_link", "event_type", "subscription", "status", "attempt_count",
        "last_status_code", "next_attempt_at", "created_at",
    ]  # fmt: skip
    list_select_related = ["event", "subscription"]
    # No date_hierarchy and no DISTINCT-based filters: on a million rows each costs a scan.
    list_filter = ["status", DueFilter, EventTypeFilter, "created_at"]
    search_fields = ["=event__public_id", "=subscription__url"]
    search_help_text = "An event id (evt_…) or a subscription's exact URL."
    raw_id_fields = ["event", "subscription"]
    inlines = [AttemptInline]
    actions = ["retry_now", "cancel"]
    # The changelist of a million rows must not count them all for the paginator.
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        # One indexed lookup instead of an OR across a join, which scans the table.
        term = search_term.strip()
        if term.startswith("evt_"):
            return queryset.filter(event__public_id=term), False
        if term:
            return queryset.filter(subscription__url=term), False
        return queryset, False

    def get_queryset(self, request):
        # Listing deliveries must not decrypt a secret per row.
        return (
            super()
            .get_queryset(request)
            .defer("subscription__secret", "subscription__previous_secret")
        )

    @admin.display(description="event", ordering="event__public_id")
    def event_link(self, delivery):
        return format_html(
            '<a href="../../webhooks/event/{}/change/">{}</a>', delivery.event_id, delivery.event
        )

    @admin.display(description="type", ordering="event__event_type")
    def event_type(self, delivery):
        return delivery.event.event_type

    @admin.action(description="Retry now")
    def retry_now(self, request, queryset):
        for delivery in queryset:
            services.delivery_retry(delivery=delivery)
        self.message_user(request, f"Queued {queryset.count()} delivery(ies) for a new attempt.")

    @admin.action(description="Cancel")
    def cancel(self, request, queryset):
        cancelled = sum(services.delivery_cancel(delivery=delivery) for delivery in queryset)
        self.message_user(request, f"Cancelled {cancelled} pending delivery(ies).")


class EventDeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["subscription", "status", "attempt_count", "last_status_code", "next_attempt_at"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


# The event core registers the Event admin without deliveries, which live downstream of it;
# this app owns them, so it replaces that registration with one that also lists them.
admin.site.unregister(Event)


@admin.register(Event)
class EventWithDeliveriesAdmin(EventAdmin):
    inlines = [*EventAdmin.inlines, EventDeliveryInline]
