"""Fixture-driven receiver tests, in the spirit of Zulip's `check_webhook`.

Each platform package's tests define a `WebhookCase` that knows the platform's fixtures and how
it signs a request. `check_webhook` then posts a stored fixture exactly as the platform would,
processes what was stored, and checks the outcome end to end: the row processed (or ignored),
and the internal event it published, with its data, linked back to the request.
"""

from pathlib import Path

from django.test import Client

from channels_app.models import InboundEvent
from channels_app.processing import inbound_event_process
from webhooks.models import Event

PLATFORMS_DIR = Path(__file__).resolve().parent / "platforms"


def process_received() -> None:
    """Process every stored event still owed processing, oldest first, as the drain does."""
    for event in InboundEvent.objects.filter(status=InboundEvent.Status.RECEIVED).order_by("pk"):
        inbound_event_process(event=event)


def published_types() -> list[str]:
    """The types of the internal events published so far, in order."""
    return list(Event.objects.order_by("pk").values_list("event_type", flat=True))


class WebhookCase:
    """A platform's receiver under test; subclasses set `platform` and sign requests."""

    platform: str = ""

    @property
    def path(self) -> str:
        return f"/webhooks/{self.platform}"

    def fixture(self, name: str) -> bytes:
        """A stored request body: `<package>/fixtures/<name>.json` unless `name` has a suffix."""
        filename = name if Path(name).suffix else f"{name}.json"
        return (PLATFORMS_DIR / self.platform / "fixtures" / filename).read_bytes()

    def signed_headers(self, body: bytes, **options) -> dict[str, str]:
        """The headers the platform sends with `body`, signed with the test account's secret."""
        raise NotImplementedError

    def post(
        self,
        client: Client,
        body: bytes,
        *,
        path: str | None = None,
        headers: dict[str, str] | None = None,
        **options,
    ):
        """POST `body` as the platform would: signed, unless `headers` are given instead."""
        sent = self.signed_headers(body, **options) if headers is None else headers
        return client.post(path or self.path, body, content_type="application/json", headers=sent)

    def deliver(self, client: Client, fixture: str, **options) -> None:
        """Post `fixture` signed and process what is owed, as the receiver and worker would."""
        response = self.post(client, self.fixture(fixture), **options)
        assert response.status_code == 200, response.content
        process_received()

    def check_webhook(
        self,
        client: Client,
        fixture: str,
        *,
        event_type: str | None,
        data: dict | None = None,
        **options,
    ) -> InboundEvent:
        """Post `fixture` signed, process it, and check what it produced.

        `event_type` None means the platform's topic is acknowledged and ignored; otherwise the
        request published exactly one event of that type, whose data includes `data`.
        """
        self.deliver(client, fixture, **options)
        inbound = InboundEvent.objects.filter(platform=self.platform).latest("pk")
        published = Event.objects.filter(idempotency_key=f"inbound:{inbound.pk}")
        if event_type is None:
            assert inbound.status == InboundEvent.Status.IGNORED, inbound.error
            assert not published.exists()
            return inbound
        assert inbound.status == InboundEvent.Status.PROCESSED, inbound.error
        event = published.get()
        assert event.event_type == event_type, event.event_type
        assert event.source == self.platform
        assert data is None or data.items() <= event.data.items(), event.data
        assert event.inbound_cause.inbound_event_id == inbound.pk
        return inbound
