"""Portal forms: they turn text inputs into the API's shapes, and the API's serializer decides
what is valid, so the portal and the REST API accept exactly the same endpoints."""

import json

from django import forms
from django.utils import timezone

from subscriptions.api.serializers import MASKED_HEADER_VALUE, SubscriptionSerializer
from subscriptions.models import (
    DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_RETRY_COUNT,
    DEFAULT_TIMEOUT_SECONDS,
    MAX_MAX_IN_FLIGHT,
    MAX_RATE_LIMIT_PER_SECOND,
    MAX_RETRY_COUNT,
    MAX_TIMEOUT_SECONDS,
    Subscription,
)
from subscriptions.services import REPLAY_WINDOW_MAX
from webhooks import catalog
from webhooks.untrusted import MalformedInput, json_parse


def event_type_choices(owner) -> list[tuple[str, str]]:
    """`*`, each group's wildcard, then every type: what the picker offers."""
    types = [*catalog.event_types(), *catalog.namespace_types(owner)]
    groups = sorted({t.name.split(".")[0] for t in types if not t.name.endswith(".*")})
    return [
        (catalog.WILDCARD, "every event type"),
        *((f"{group}.*", f"every {group}.* type") for group in groups),
        *((t.name, t.description) for t in types),
    ]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class EndpointForm(forms.Form):
    url = forms.CharField(
        max_length=2048, widget=forms.URLInput(attrs={"placeholder": "https://example.com/hook"})
    )
    description = forms.CharField(max_length=500, required=False)
    event_types = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    headers = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Authorization: Bearer …"}),
        help_text=f"One 'Name: value' a line. Stored values show as {MASKED_HEADER_VALUE}: "
        "leave that to keep one.",
    )
    filter = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": '{"data.status": "paid"}'}),
        help_text='JSON, e.g. {"data.total": {"$gte": 100}}; empty: every event of its types.',
    )
    channels = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "shopify:acme.myshopify.com"}),
        help_text="One a line; empty: events on any channel.",
    )
    max_in_flight = forms.IntegerField(
        min_value=1,
        max_value=MAX_MAX_IN_FLIGHT,
        initial=DEFAULT_MAX_IN_FLIGHT,
        help_text="Requests open at once; 1 delivers in order.",
    )
    rate_limit_per_second = forms.IntegerField(
        min_value=1,
        max_value=MAX_RATE_LIMIT_PER_SECOND,
        required=False,
        help_text="Empty: no limit.",
    )
    retry_count = forms.IntegerField(
        min_value=0, max_value=MAX_RETRY_COUNT, initial=DEFAULT_RETRY_COUNT
    )
    timeout_seconds = forms.IntegerField(
        min_value=1, max_value=MAX_TIMEOUT_SECONDS, initial=DEFAULT_TIMEOUT_SECONDS
    )
    is_active = forms.BooleanField(
        required=False, initial=True, help_text="Re-enabling clears the disable reason."
    )

    def __init__(self, *args, owner, instance: Subscription | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(instance)
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.instance = instance
        self.fields["event_types"].choices = event_type_choices(owner)
        self.validated_data: dict = {}

    @staticmethod
    def initial_from(subscription: Subscription) -> dict:
        return {
            "url": subscription.url,
            "description": subscription.description,
            "event_types": subscription.event_types,
            "headers": "\n".join(f"{name}: {MASKED_HEADER_VALUE}" for name in subscription.headers),
            "filter": json.dumps(subscription.filter) if subscription.filter else "",
            "channels": "\n".join(subscription.channels),
            "max_in_flight": subscription.max_in_flight,
            "rate_limit_per_second": subscription.rate_limit_per_second,
            "retry_count": subscription.retry_count,
            "timeout_seconds": subscription.timeout_seconds,
            "is_active": subscription.is_active,
        }

    def clean_headers(self) -> dict[str, str]:
        headers = {}
        for line in _lines(self.cleaned_data["headers"]):
            name, colon, value = line.partition(":")
            if not colon or not name.strip():
                raise forms.ValidationError(f"Not 'Name: value': {line!r}.")
            headers[name.strip()] = value.strip()
        return headers

    def clean_filter(self):
        text = self.cleaned_data["filter"].strip()
        if not text:
            return None
        try:
            return json_parse(text)
        except MalformedInput as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_channels(self) -> list[str]:
        return _lines(self.cleaned_data["channels"])

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        data = {name: cleaned[name] for name in self.fields if name in cleaned}
        if self.instance is None:
            data.pop("is_active")
        incoming = SubscriptionSerializer(
            self.instance,
            data=data,
            partial=self.instance is not None,
            context={"owner": self.owner},
        )
        if incoming.is_valid():
            self.validated_data = dict(incoming.validated_data)
        else:
            for field, problems in incoming.errors.items():
                self.add_error(field if field in self.fields else None, list(problems))
        return cleaned


class WindowForm(forms.Form):
    """A window in UTC, `since` inclusive, `until` exclusive (empty: now), of at most
    REPLAY_WINDOW_MAX: what recover re-queues and replay-missing sends."""

    since = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    until = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until <= since:
            self.add_error("until", "Must be later than since.")
        elif since and (until or timezone.now()) - since > REPLAY_WINDOW_MAX:
            self.add_error("since", f"The window may span at most {REPLAY_WINDOW_MAX.days} days.")
        return cleaned
