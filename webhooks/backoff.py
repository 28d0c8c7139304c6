"""Exponential backoff with jitter: the delay before a retry, for every retry the database owns
(outbound deliveries, inbound processing, the Qualia message fetch).

Retry n waits 2 s * 2^(n-1), capped, then jittered by ±20 % so that rows that failed together
do not all come due in the same instant.
"""

import random
from collections.abc import Callable

BASE_DELAY_SECONDS = 2.0
JITTER = 0.2


def backoff_seconds(
    retry_number: int, *, cap_seconds: float, rng: Callable[[], float] = random.random
) -> float:
    """Delay before retry `retry_number` (1-based), capped, then jittered by ±20 %."""
    delay = min(cap_seconds, BASE_DELAY_SECONDS * 2 ** min(retry_number - 1, 64))
    return delay * (1 - JITTER + 2 * JITTER * rng())
