"""The inbound part of the staff dashboard: accounts and the raw log (read-only).

Orders are `channels_app.commerce.admin`; each platform package's `admin` module registers its
own projections and may add actions to the accounts' list.
"""

import json

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from channels_app import processing, services
from channels_app.commerce import admin as commerce_admin  # noqa: F401  (registers orders)
from channels_app.models import ChannelAccount, InboundEvent
from channels_app.platforms import platform_modules
from channels_app.platforms.registry import PLATFORMS
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
    # Platform packages add theirs (an admin module's ACCOUNT_ACTIONS).
    actions = [
        action
        for module in platform_modules("admin")
        for action in getattr(module, "ACCOUNT_ACTIONS", ())
    ]

    def save_model(self, request, obj, form, change):
        written = {
            field: form.cleaned_data[f"new_{field}"]
            for field in ("secret", "api_token")
            if form.cleaned_data.get(f"new_{field}")
        }
        services.channel_account_save(
            account=obj, password=form.cleaned_data.get("new_password") or None, **written
        )


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
    readonly_fields = ["body_pretty", "events_produced"]
    actions = ["reprocess"]

    @admin.display(description="body")
    def body_pretty(self, event):
        raw = bytes(event.body)
        try:
            text = json.dumps(json_parse(raw), indent=2, ensure_ascii=False)
        except MalformedInput:  # shown as received; undecodable bytes as U+FFFD
            text = raw.decode("utf-8", errors="replace")
        return format_html("<pre>{}</pre>", text)  # escaped: a body is untrusted input

    @admin.display(description="events it produced")
    def events_produced(self, event):
        """Lineage: each internal event, linked to its page, where its deliveries are."""
        produced = event.produced.select_related("event").order_by("pk")
        links = format_html_join(
            mark_safe("<br>"),
            '<a href="{}">{} {}</a>',
            (
                (reverse("admin:webhooks_event_change", args=[p.event_id]), p.event.event_type,
                 p.event.public_id)
                for p in produced
            ),
        )  # fmt: skip
        return links or "—"

    @admin.action(description="Reprocess")
    def reprocess(self, request, queryset):
        count = processing.inbound_events_reprocess(events=queryset)
        self.message_user(request, f"Queued {count} event(s) for processing.")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
