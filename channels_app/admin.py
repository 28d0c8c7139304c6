"""The inbound part of the staff dashboard: accounts, the raw log (read-only), activities."""

import json

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from channels_app import services
from channels_app.models import (
    Activity,
    ChannelAccount,
    Fulfillment,
    InboundEvent,
    InventoryLevel,
    LineItem,
    Message,
    Order,
    Payment,
    ProcessingReport,
    Product,
    Refund,
    Shipment,
    SnsSubscription,
    Store,
    Variant,
    WebhookRegistration,
)
from channels_app.platforms.qualia import fetches
from channels_app.platforms.registry import PLATFORMS
from channels_app.platforms.shopify.registration import (
    RegistrationError,
    shopify_webhooks_register,
)
from webhooks.untrusted import MalformedInput, json_parse


class ChannelAccountForm(forms.ModelForm):
    """Secrets are write-only here as in the API: typed in, never rendered back; a field left
    empty keeps what is stored."""

    new_secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="Webhook signing secret. Leave empty to keep the current one.",
    )
    new_api_token = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="Credentials for the platform's API. Leave empty to keep the current one.",
    )
    new_password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="HTTP Basic password (Qualia), stored hashed. Leave empty to keep it.",
    )

    class Meta:
        model = ChannelAccount
        fields = ["owner", "platform", "name", "external_id", "verification", "signature_header",
                  "is_active"]  # fmt: skip


@admin.register(ChannelAccount)
class ChannelAccountAdmin(admin.ModelAdmin):
    form = ChannelAccountForm
    list_display = ["name", "platform", "external_id", "owner", "is_active", "created_at"]
    list_select_related = ["owner"]
    list_filter = ["platform", "is_active"]
    search_fields = ["name", "external_id", "owner__username"]
    readonly_fields = ["receive_key", "created_at"]
    actions = ["register_shopify_webhooks"]

    def save_model(self, request, obj, form, change):
        written = {
            field: form.cleaned_data[f"new_{field}"]
            for field in ("secret", "api_token")
            if form.cleaned_data.get(f"new_{field}")
        }
        services.channel_account_save(
            account=obj, password=form.cleaned_data.get("new_password") or None, **written
        )

    @admin.action(description="Register Shopify webhooks")
    def register_shopify_webhooks(self, request, queryset):
        for account in queryset.order_by("pk"):
            try:
                result = shopify_webhooks_register(account=account)
            except RegistrationError as exc:
                self.message_user(request, f"{account}: {exc.message}", messages.ERROR)
                continue
            failures = "; ".join(f"{r.topic}: {r.error}" for r in result.failed)
            self.message_user(
                request,
                result.summary() + (f" ({failures})" if failures else ""),
                messages.WARNING if failures else messages.SUCCESS,
            )
            for warning in result.warnings:
                self.message_user(request, f"{account}: {warning}", messages.WARNING)


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
    list_display = [
        "id", "platform", "topic", "account", "status", "attempts", "next_attempt_at",
        "received_at",
    ]  # fmt: skip
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
            text = json.dumps(json_parse(raw), indent=2, ensure_ascii=False)
        except MalformedInput:  # shown as received; undecodable bytes as U+FFFD
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


class ProjectionAdmin(admin.ModelAdmin):
    """Projections are written by the platforms' handlers only: read-only here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ProjectionInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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


@admin.register(Payment)
class PaymentAdmin(ProjectionAdmin):
    list_display = ["external_id", "kind", "status", "amount", "currency", "customer", "account"]
    list_select_related = ["account"]
    list_filter = ["kind", "status"]
    search_fields = ["=external_id", "=customer"]


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


@admin.register(Shipment)
class ShipmentAdmin(ProjectionAdmin):
    """Flipkart and Selloship shipments (returns are `return-<id>`), with their tracking."""

    list_display = ["external_id", "awb", "courier", "status", "order", "account",
                    "remote_updated_at"]  # fmt: skip
    list_select_related = ["account", "order"]
    list_filter = ["status", "courier"]
    search_fields = ["=external_id", "=awb", "=order__external_id"]
    date_hierarchy = "updated_at"
