"""The one pipeline every receiver runs, in this order (issue contract):

1. 413 when the body is over MAX_PAYLOAD_SIZE_MB (never buffering more than that),
2. 429 with Retry-After past the per-platform, per-sender rate limit,
3. 401 when the platform's scheme rejects the raw bytes (nothing stored),
4. 400 for a body that is not JSON, 422 for one of the wrong shape,
5-6. store once (a duplicate answers 200 and is not processed again) and commit,
   then 200; a database that is down answers 503 so the platform retries, and a value it
   refuses (a NUL) 422, as no retry would clear it,
7. processing happens in Celery (channels_app.tasks).
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import DataError, IntegrityError
from django.http import HttpRequest, JsonResponse

from channels_app import metrics
from channels_app.metrics import REJECTED as INBOUND_REJECTED
from channels_app.platforms.base import NotConfigured, Platform, Problem, Unauthorized
from channels_app.services import inbound_event_store
from webhooks.errors import DATABASE_UNAVAILABLE
from webhooks.redaction import SENSITIVE_NAMES
from webhooks.redis import redis_client
from webhooks.untrusted import MalformedInput, ascii_int, json_parse

logger = logging.getLogger(__name__)
# A deployment missing a setting is fixed by a person: ask the platform to come back later.
NOT_CONFIGURED_RETRY_AFTER_SECONDS = 300


def _stored_headers(request: HttpRequest) -> dict[str, str]:
    return {
        name: value for name, value in request.headers.items() if not SENSITIVE_NAMES.search(name)
    }


def _rate_limited(platform: str, sender: str) -> int | None:
    """Seconds to wait when `sender` went over the limit this minute, else None."""
    window = int(time.time() // 60)
    key = f"inbound-rate:{platform}:{sender}:{window}"
    client = redis_client()
    try:
        if client is not None:
            count, _ = client.pipeline(transaction=False).incr(key).expire(key, 65).execute()
        else:
            count = _cache_count(key)
    except Exception:
        # Fail open: a Redis outage must not refuse webhooks the database can still store.
        logger.exception("inbound.rate_limit_unavailable", extra={"platform": platform})
        return None
    if count > settings.INBOUND_RATE_LIMIT_PER_MINUTE:
        return 60 - int(time.time() % 60)
    return None


def _cache_count(key: str) -> int:
    try:
        return cache.incr(key)
    except ValueError:
        cache.add(key, 0, timeout=65)
        return cache.incr(key)


def _error(detail: str, code: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


@metrics.counted
def receive(request: HttpRequest, platform: Platform) -> JsonResponse:
    started = time.perf_counter()
    if request.method != "POST":
        return _error("Only POST is accepted.", "method_not_allowed", 405)
    limit = settings.MAX_PAYLOAD_SIZE_MB * 1024 * 1024
    try:
        declared = ascii_int(request.META.get("CONTENT_LENGTH") or "0")
    except MalformedInput as exc:  # over 18 digits is over the limit; else read, capped below
        declared = limit + 1 if exc.code == "too_large" else 0
    if declared > limit:
        INBOUND_REJECTED.labels(platform.name, "too_large").inc()
        return _error(f"Body over {settings.MAX_PAYLOAD_SIZE_MB} MB.", "payload_too_large", 413)
    body = request.read(limit + 1)
    if len(body) > limit:
        INBOUND_REJECTED.labels(platform.name, "too_large").inc()
        return _error(f"Body over {settings.MAX_PAYLOAD_SIZE_MB} MB.", "payload_too_large", 413)

    retry_after = _rate_limited(platform.name, platform.rate_limit_key(request))
    if retry_after is not None:
        INBOUND_REJECTED.labels(platform.name, "rate_limited").inc()
        response = _error("Too many requests.", "rate_limited", 429)
        response["Retry-After"] = str(retry_after)
        return response

    try:
        return _authenticate_and_store(request, platform, body, started)
    except DataError as exc:
        # A value PostgreSQL refuses (a NUL in the id, say): a retry would meet it again.
        INBOUND_REJECTED.labels(platform.name, "unstorable").inc()
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        logger.warning("inbound.unstorable", extra={"platform": platform.name, "reason": reason})
        return platform.invalid(
            [
                Problem(
                    ("body",),
                    f"the request holds a value the database refuses: {reason}",
                    "value_error",
                )
            ]
        )
    except (*DATABASE_UNAVAILABLE, IntegrityError):
        # IntegrityError: the account was deleted while this process still remembered it; the
        # retry, once the memory expires, gets its definite answer (401).
        logger.exception("inbound.store_failed", extra={"platform": platform.name})
        return _error("Could not store the event; please retry.", "unavailable", 503)


def _parse(platform: Platform, body: bytes, check):
    """(payload, None), or (None, the 400 or 422 answer); `check` lists the problems."""
    try:
        payload = json_parse(body)
    except MalformedInput as exc:
        return None, platform.bad_json(str(exc))
    problems = check(payload)
    return (None, platform.invalid(problems)) if problems else (payload, None)


def _authenticate_and_store(request, platform: Platform, body: bytes, started: float):
    if platform.signature_in_body:
        _, refusal = _parse(platform, body, platform.envelope_problems)
        if refusal is not None:
            return refusal
    try:
        account = platform.authenticate(request, body)
    except Unauthorized as exc:
        INBOUND_REJECTED.labels(platform.name, "unauthorized").inc()
        logger.warning(
            "inbound.unauthorized", extra={"platform": platform.name, "reason": str(exc)}
        )
        return platform.unauthorized(str(exc))
    except NotConfigured as exc:
        INBOUND_REJECTED.labels(platform.name, "not_configured").inc()
        logger.error(
            "inbound.not_configured", extra={"platform": platform.name, "reason": str(exc)}
        )
        response = _error(str(exc), "not_configured", 503)
        response["Retry-After"] = str(NOT_CONFIGURED_RETRY_AFTER_SECONDS)
        return response
    payload, refusal = _parse(platform, body, platform.validate)
    if refusal is not None:
        return refusal

    topic, external_id = platform.describe(request, payload, body)
    event, duplicate = inbound_event_store(
        platform=platform.name,
        account=account,
        topic=topic,
        external_id=external_id,
        body=body,
        headers=_stored_headers(request),
        remote_addr=request.META.get("REMOTE_ADDR"),
    )
    return platform.accepted(event, payload, duplicate=duplicate, started=started)
