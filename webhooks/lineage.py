"""What caused an event, for the event's readers, without the core knowing who causes them.

Like Stripe's `request` on an event: an event published because something arrived (an
inbound webhook) names it. The apps that cause events answer through
`settings.EVENT_CAUSE_PROVIDERS`, callables taking events and returning {event id: cause},
where a cause is a JSON-ready dict with at least `type`, `id`, `url` (in the API) and
`admin_url` (its page in the dashboard, for staff only).
"""

from django.conf import settings
from django.utils.module_loading import import_string

from webhooks.models import Event


def event_causes(events: list[Event]) -> dict[int, dict]:
    """The cause of each of `events` that has one, by event id (one query per provider)."""
    causes: dict[int, dict] = {}
    for path in settings.EVENT_CAUSE_PROVIDERS:
        causes.update(import_string(path)(events))
    return causes
