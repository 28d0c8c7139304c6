"""The retry policy: one pure function of an attempt's result and its number.

Delay before retry n is webhooks.backoff's 2 s * 2^(n-1), capped, ±20 % jitter: retry_count 3
gives about 2 s, 4 s, 8 s, and the default 17 with a 6 h cap spans about 27 hours, so an
endpoint that is down for a day still gets its events. A `Retry-After` on 429/503 replaces the
backoff, capped.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum

from webhooks.backoff import backoff_seconds
from webhooks.http.result import SendResult
from webhooks.untrusted import ascii_int

RETRYABLE_STATUSES = frozenset({408, 429})
RETRY_AFTER_STATUSES = frozenset({429, 503})
GONE = 410


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    RETRY = "retry"
    FAILED = "failed"
    GONE = "gone"  # the endpoint asked us to stop: disable the subscription


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    delay_seconds: float | None = None


def retry_after_seconds(value: str | None, *, now_timestamp: float) -> float | None:
    """A Retry-After header as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        if value.isdigit():  # also other scripts' digits, which ascii_int refuses
            return float(ascii_int(value))
        return max(0.0, parsedate_to_datetime(value).timestamp() - now_timestamp)
    # MalformedInput is a ValueError; OverflowError is a date whose year no clock holds.
    except (TypeError, ValueError, OverflowError):
        return None


def is_retryable(result: SendResult) -> bool:
    if result.status_code is None:
        # No answer: timeouts and network errors retry; a forbidden address never will resolve.
        return result.error_kind in ("timeout", "connection")
    return result.status_code in RETRYABLE_STATUSES or result.status_code >= 500


def decide(
    result: SendResult,
    *,
    attempt_number: int,
    retry_count: int,
    cap_seconds: float,
    now_timestamp: float,
    rng: Callable[[], float] = random.random,
) -> Decision:
    if result.status_code is not None and 200 <= result.status_code < 300:
        return Decision(Outcome.SUCCEEDED)
    if result.status_code == GONE:
        return Decision(Outcome.GONE)
    if not is_retryable(result) or attempt_number > retry_count:
        return Decision(Outcome.FAILED)
    delay = None
    if result.status_code in RETRY_AFTER_STATUSES:
        delay = retry_after_seconds(result.retry_after, now_timestamp=now_timestamp)
    if delay is None:
        delay = backoff_seconds(attempt_number, cap_seconds=cap_seconds, rng=rng)
    return Decision(Outcome.RETRY, min(delay, cap_seconds))
