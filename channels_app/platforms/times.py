"""Reading the times platforms send, which are untrusted text."""

from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime


def parse_time(value) -> datetime | None:
    """An ISO 8601 time as an aware datetime; None when missing or not a real time.

    Django's parse_datetime raises for text shaped like a time that is not one (month 13)
    and returns a naive datetime for one without an offset: a platform's time without an
    offset is read as UTC, so every stored time compares with every other.
    """
    try:
        parsed = parse_datetime(str(value or ""))
    except ValueError:
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
