"""The event-type catalog: every type a subscription may name, with a description and example.

Each app lists its own types in a module named by `settings.EVENT_TYPE_CATALOGS`; the catalog
is merged lazily on first use, so adding a platform's events is one list and one settings line.
"""

import re
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

WILDCARD = "*"


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    example: dict
    group: str = ""


# Operational events: the delivery engine reporting on the owner's own endpoints, published
# by subscriptions.operational with source "system". `endpoint_id` is the subscription's id in
# /api/webhooks/{id}; that subscription itself never receives the event.
ENDPOINT_FAILING = "endpoint.failing"
ENDPOINT_RECOVERED = "endpoint.recovered"
ENDPOINT_DISABLED = "endpoint.disabled"
DELIVERY_EXHAUSTED = "delivery.exhausted"
OPERATIONAL_EVENT_TYPES = frozenset(
    {ENDPOINT_FAILING, ENDPOINT_RECOVERED, ENDPOINT_DISABLED, DELIVERY_EXHAUSTED}
)

# The application's own events (the notes app's contract: email, calendar, tasks, ...).
BUILTIN_EVENT_TYPES = [
    EventType(
        "email.received",
        "An email was received and indexed.",
        {
            "email_id": "msg-123",
            "subject": "Meeting Reminder",
            "from": "john@example.com",
            "to": ["me@example.com"],
            "date": "2024-01-15T10:00:00Z",
        },
        "email",
    ),
    EventType(
        "email.sent",
        "An email was sent successfully.",
        {"email_id": "msg-124", "subject": "Re: Meeting", "to": ["john@example.com"]},
        "email",
    ),
    EventType(
        "email.indexed",
        "An email was indexed for search.",
        {"email_id": "msg-123", "chunks": 4},
        "email",
    ),
    EventType(
        "calendar.event.created",
        "A calendar event was created.",
        {
            "event_id": "cal-1",
            "title": "Standup",
            "start": "2024-01-15T09:00:00Z",
            "end": "2024-01-15T09:15:00Z",
        },
        "calendar",
    ),
    EventType(
        "calendar.event.updated",
        "A calendar event was updated.",
        {"event_id": "cal-1", "title": "Standup (moved)", "start": "2024-01-15T09:30:00Z"},
        "calendar",
    ),
    EventType(
        "calendar.event.deleted", "A calendar event was deleted.", {"event_id": "cal-1"}, "calendar"
    ),
    EventType(
        "task.created",
        "A task was created.",
        {"task_id": "task-1", "title": "Write report", "due": "2024-01-20"},
        "task",
    ),
    EventType(
        "task.updated",
        "A task was updated.",
        {"task_id": "task-1", "title": "Write the report"},
        "task",
    ),
    EventType(
        "task.completed",
        "A task was completed.",
        {"task_id": "task-1", "title": "Write report", "completed_at": "2024-01-19T17:00:00Z"},
        "task",
    ),
    EventType("task.deleted", "A task was deleted.", {"task_id": "task-1"}, "task"),
    EventType(
        "indexing.started",
        "An indexing job started.",
        {"job_id": "idx-1", "source": "gmail"},
        "indexing",
    ),
    EventType(
        "indexing.completed",
        "An indexing job completed.",
        {"job_id": "idx-1", "documents": 1200, "duration_seconds": 84},
        "indexing",
    ),
    EventType(
        "indexing.failed",
        "An indexing job failed.",
        {"job_id": "idx-1", "error": "quota exceeded"},
        "indexing",
    ),
    EventType(
        "user.created",
        "A user account was created.",
        {"user_id": "42", "email": "new@example.com"},
        "user",
    ),
    EventType(
        "user.settings.updated",
        "A user changed their settings.",
        {"user_id": "42", "changed": ["timezone"]},
        "user",
    ),
    EventType(
        "export.completed",
        "A data export is ready.",
        {"export_id": "exp-1", "url": "https://example.com/exports/exp-1.zip"},
        "system",
    ),
    EventType("sync.completed", "A sync finished.", {"sync_id": "sync-1", "items": 37}, "system"),
    EventType(
        ENDPOINT_FAILING,
        "An endpoint's circuit opened: it failed DELIVERY_BREAKER_THRESHOLD times in a row, so "
        "its deliveries wait (still pending) until a probe succeeds. Sent once per failing "
        "spell, at most once per endpoint per OPERATIONAL_EVENT_WINDOW_SECONDS (60).",
        {
            "endpoint_id": 12,
            "url": "https://example.com/hooks",
            "consecutive_failures": 5,
            "failing_since": "2024-01-15T10:00:00Z",
            "paused_until": "2024-01-15T10:03:00Z",
            "last_status_code": 503,
            "last_error": "HTTP 503",
        },
        "operational",
    ),
    EventType(
        ENDPOINT_RECOVERED,
        "An endpoint reported by endpoint.failing answered successfully again: its circuit "
        "closed and its waiting deliveries go out.",
        {
            "endpoint_id": 12,
            "url": "https://example.com/hooks",
            "failing_since": "2024-01-15T10:00:00Z",
            "recovered_at": "2024-01-15T10:04:00Z",
        },
        "operational",
    ),
    EventType(
        ENDPOINT_DISABLED,
        "An endpoint was disabled: it answered 410 Gone (cause `gone`), or it kept failing for "
        "DELIVERY_DISABLE_AFTER_DAYS (cause `failing`). Nothing more is sent to it; what it "
        "still owed failed and can be re-sent with POST /api/webhooks/{id}/recover once it is "
        "enabled again. Sent once per disable; also emailed to the owner.",
        {
            "endpoint_id": 12,
            "url": "https://example.com/hooks",
            "cause": "gone",
            "reason": "The endpoint answered 410 Gone.",
            "disabled_at": "2024-01-15T10:05:00Z",
        },
        "operational",
    ),
    EventType(
        DELIVERY_EXHAUSTED,
        "A delivery failed for good: its last retry failed, or it failed in a way that is "
        "never retried (a 4xx other than 408, 410 and 429, a redirect, a forbidden address). "
        "At most one per endpoint per OPERATIONAL_EVENT_WINDOW_SECONDS (60): it describes the "
        "latest such delivery, and `count` says how many of the endpoint's deliveries failed "
        "for good since the previous delivery.exhausted, this one included. Failed deliveries "
        "of operational events are not reported. Also emailed to the owner, at most hourly.",
        {
            "endpoint_id": 12,
            "url": "https://example.com/hooks",
            "delivery_id": 3456,
            "event_id": "evt_01hn3kq8w2x7v5c9m4r6t0z1yb",
            "event_type": "task.created",
            "attempts": 18,
            "last_status_code": 500,
            "last_error": "HTTP 500",
            "count": 1,
        },
        "operational",
    ),
]


# Sent only by POST /api/webhooks/{id}/test; never published to other subscriptions.
TEST_EVENT_TYPE = "webhook.test"


@cache
def _catalog() -> dict[str, EventType]:
    merged: dict[str, EventType] = {}
    for path in settings.EVENT_TYPE_CATALOGS:
        for event_type in import_string(path):
            merged[event_type.name] = event_type
    return merged


def event_types() -> list[EventType]:
    return sorted(_catalog().values(), key=lambda event_type: event_type.name)


def open_namespaces(owner) -> dict[str, str]:
    """`owner`'s namespaces whose every type is valid (`acme.` for their configured source
    `acme`), with a description; each app contributes through `settings.EVENT_TYPE_NAMESPACES`.

    Per owner, so no user learns another's integrations; read on each call, not cached: they
    follow configuration rows, not code.
    """
    merged: dict[str, str] = {}
    if owner is None:
        return merged
    for path in settings.EVENT_TYPE_NAMESPACES:
        merged.update(import_string(path)(owner))
    return merged


def namespace_types(owner) -> list[EventType]:
    """`owner`'s open namespaces as catalog entries (`acme.*`), to list beside the types."""
    return [
        EventType(f"{namespace}.*", description, {}, "sources")
        for namespace, description in sorted(open_namespaces(owner).items())
    ]


# What a type from an open namespace may contain: printable ASCII without spaces, so a name
# can go into an SSE `event:` line or an HTTP header without breaking out of it.
OPEN_TYPE_NAME = re.compile(r"[!-~]{1,100}")


def _in_open_namespace(name: str, owner) -> bool:
    namespace, dot, rest = name.partition(".")
    return (
        bool(dot and rest)
        and OPEN_TYPE_NAME.fullmatch(name) is not None
        and namespace in open_namespaces(owner)
    )


def is_known(name: str, owner=None) -> bool:
    """A catalog type, or a type in one of `owner`'s open namespaces."""
    return name in _catalog() or _in_open_namespace(name, owner)


def is_valid_pattern(pattern: str, owner=None) -> bool:
    """`*`, a known type, or a prefix wildcard such as `task.*` that matches a known type.

    `acme.*` of an owner's open namespace `acme` is already a known type of it.
    """
    if pattern == WILDCARD or is_known(pattern, owner):
        return True
    if pattern.endswith(".*"):
        prefix = pattern[:-1]
        return any(name.startswith(prefix) for name in _catalog())
    return False


def patterns_matching(event_type: str) -> list[str]:
    """Every subscription pattern that selects `event_type`: `*`, the type itself, and each
    prefix wildcard (`calendar.*`, `calendar.event.*` for `calendar.event.created`).

    Matching is set intersection with these, so the database can do it too (PostgreSQL's
    jsonb `?|`), with the same meaning as here.
    """
    parts = event_type.split(".")
    return [WILDCARD, event_type, *(".".join(parts[:i]) + ".*" for i in range(1, len(parts)))]


def matches_any(patterns: list[str], event_type: str) -> bool:
    return not set(patterns).isdisjoint(patterns_matching(event_type))
