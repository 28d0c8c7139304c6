"""The pump: one worker process keeping many deliveries in flight at once.

A delivery task runs one pump. It claims due deliveries across all endpoints while it has
room (DELIVERY_CONCURRENCY requests in flight), starts each signed POST on the process's
concurrent HTTP client, and records what comes back in batches. All database work stays on
the task's own thread, in ordinary synchronous Django; only the sockets are driven by the
client's event loop. So throughput is about (requests in flight) / (endpoint latency) per
process, where a blocking send would give one request per latency.

The database stays the only source of truth: a row is claimed before it is sent and written
back under that claim. A pump killed mid-flight leaves claims that lapse after the endpoint's
timeout; the sweep hands them on, so a delivery is sent again at most once per kill.

A pump claims for DELIVERY_PUMP_SECONDS, then lets its in-flight requests finish and queues a
successor, so the worker process gets to its other queues in between; it ends sooner when
nothing has been due for DELIVERY_PUMP_IDLE_SECONDS, waking a successor for when the next
retry is due.
"""

import time
from concurrent.futures import FIRST_COMPLETED, Future, wait

from django.conf import settings
from django.utils import timezone

from subscriptions.delivery import claims, dispatch, recording, sending

# A result waits at most this long, or until this many have come back, to be written back.
# Short: an endpoint's row stays in flight until its result is written, so this delay is
# added to every request of an endpoint running at its max_in_flight.
RECORD_WITHIN_SECONDS = 0.02
RECORD_EVERY_RESULTS = 200
# While claims find work, claim again at most this often: each claim is a transaction.
CLAIM_INTERVAL_SECONDS = 0.02


def deliveries_pump(*, max_seconds: float | None = None, idle_seconds: float | None = None) -> int:
    """Deliver due work until idle or out of time; returns how many requests were attempted."""
    max_seconds = settings.DELIVERY_PUMP_SECONDS if max_seconds is None else max_seconds
    idle_seconds = settings.DELIVERY_PUMP_IDLE_SECONDS if idle_seconds is None else idle_seconds
    dispatch.wake_acknowledge()
    pool = sending.pool()
    capacity = settings.DELIVERY_CONCURRENCY
    started = last_found = time.monotonic()
    oldest_result = None  # when the oldest result not yet written back came in
    next_claim = started
    in_flight: dict[Future, sending.Sending] = {}
    finished: list[recording.Completed] = []
    attempted = 0
    out_of_time = False
    try:
        while True:
            now = time.monotonic()
            out_of_time = now - started >= max_seconds
            room = capacity - len(in_flight)
            if not out_of_time and room > 0 and now >= next_claim:
                claimed = claims.deliveries_claim(capacity=room, now=timezone.now())
                for delivery in claimed:
                    outgoing, future = sending.delivery_send_start(delivery=delivery, pool=pool)
                    in_flight[future] = outgoing
                attempted += len(claimed)
                if claimed:
                    last_found = now
                if len(claimed) == room:
                    dispatch.deliveries_wake()  # more due than we hold: a second pump helps
                interval = CLAIM_INTERVAL_SECONDS if claimed else settings.DELIVERY_POLL_SECONDS
                next_claim = now + interval
            if in_flight:
                waiting = settings.DELIVERY_POLL_SECONDS
                if oldest_result is not None:
                    waiting = max(0.0, oldest_result + RECORD_WITHIN_SECONDS - time.monotonic())
                done, _ = wait(list(in_flight), timeout=waiting, return_when=FIRST_COMPLETED)
                completed_at = timezone.now()
                for future in done:
                    finished.append(
                        recording.Completed(in_flight.pop(future), future.result(), completed_at)
                    )
                if finished and oldest_result is None:
                    oldest_result = time.monotonic()
                if finished and (
                    len(finished) >= RECORD_EVERY_RESULTS
                    or time.monotonic() - oldest_result >= RECORD_WITHIN_SECONDS
                ):
                    recording.attempts_record(finished)
                    finished, oldest_result = [], None
                    next_claim = time.monotonic()  # the room those results held is free
                continue
            if finished:
                # Recorded results free an endpoint's room or close its circuit: look again.
                recording.attempts_record(finished)
                finished, oldest_result = [], None
                next_claim = time.monotonic()
                continue
            if out_of_time or now - last_found >= idle_seconds:
                break
            time.sleep(max(0.0, next_claim - time.monotonic()))
    finally:
        # On an error, what came back is still recorded; what is still in flight keeps its
        # claim, which lapses, and the sweep sends it again.
        recording.attempts_record(finished)
    if out_of_time:
        dispatch.deliveries_wake(force=True)
    else:
        dispatch.deliveries_wake_for_next_due()
    return attempted
