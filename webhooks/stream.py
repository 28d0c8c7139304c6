"""Live stream (Server-Sent Events) of a user's events.

Served by the ASGI process (uvicorn), so a thousand open streams cost coroutines, not the web
workers that receive webhooks. The database stays the source of truth: one feed per process
polls it for new events of the users who have a stream open and fans them out, so an event
created by any process (web, worker, another machine) reaches every stream within a poll
interval, and a reconnect with `Last-Event-ID` replays what was missed from the same table.
"""

import asyncio
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from functools import wraps

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.http import JsonResponse, StreamingHttpResponse
from django.utils import timezone

from webhooks import catalog
from webhooks.errors import error_body
from webhooks.models import Event
from webhooks.services import api_token_authenticate

logger = logging.getLogger(__name__)

# Events are stamped before their transaction commits; anything committed within this window
# after its timestamp is still picked up, in whatever order the commits land.
_COMMIT_LAG = timedelta(seconds=5)
_STREAM_FIELDS = ("pk", "public_id", "owner_id", "event_type", "source", "data", "created_at")


def _database(function):
    """Run a sync database function from the stream's coroutines, as a request would run it.

    Streams and the poller live outside any request, where Django never checks its
    connection, so after a database restart every later query would fail on the dead
    connection; closing an unusable one before and after each call lets the next reconnect.
    """

    @wraps(function)
    def checked(*args, **kwargs):
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(checked)


def _summary(data) -> str:
    if not isinstance(data, dict):
        return ""
    return ", ".join(f"{key}={value}" for key, value in list(data.items())[:3])[:200]


def event_fields(event: Event) -> dict:
    """What a stream message says about an event; the live page renders its history from it."""
    return {
        "id": event.public_id,
        "event_type": event.event_type,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "source": event.source,
        "summary": _summary(event.data),
    }


def sse_message(event: Event, *, named: bool = True) -> bytes:
    data = event_fields(event)
    name = f"event: {event.event_type}\n" if named else ""
    return (
        f"id: {event.public_id}\n{name}data: {json.dumps(data, separators=(',', ':'))}\n\n"
    ).encode()


@dataclass
class StreamFilter:
    type_patterns: list[str] = field(default_factory=list)
    source: str | None = None
    # `event: <type>` lines; a browser page asks for plain messages so that one onmessage
    # handler sees every type.
    named_events: bool = True

    def accepts(self, event: Event) -> bool:
        if self.source and event.source != self.source:
            return False
        return not self.type_patterns or catalog.matches_any(self.type_patterns, event.event_type)


class EventFeed:
    """This process's one poller, shared by every open stream."""

    def __init__(self):
        self.queues: dict[int, set[asyncio.Queue]] = defaultdict(set)
        self._task: asyncio.Task | None = None
        self._seen: dict[int, object] = {}

    def subscribe(self, owner_id: int) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        self.queues[owner_id].add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._poll())
        return queue

    def unsubscribe(self, owner_id: int, queue: asyncio.Queue) -> None:
        self.queues[owner_id].discard(queue)
        if not self.queues[owner_id]:
            del self.queues[owner_id]

    def stats(self) -> dict:
        return {
            "connections": sum(len(queues) for queues in self.queues.values()),
            "users": len(self.queues),
        }

    async def _poll(self) -> None:
        while self.queues:
            try:
                await self._poll_once(timezone.now() - _COMMIT_LAG)
            except Exception:  # a database blip must not end every stream of this process
                logger.exception("stream.poll_failed")
            await asyncio.sleep(settings.STREAM_POLL_SECONDS)

    async def _poll_once(self, window_start) -> None:
        for event in await _recent_events(list(self.queues), window_start):
            if event.pk in self._seen:
                continue
            self._seen[event.pk] = event.created_at
            for queue in self.queues.get(event.owner_id, ()):
                if not queue.full():  # a stalled client loses live events, not the server
                    queue.put_nowait(event)
        self._seen = {pk: at for pk, at in self._seen.items() if at >= window_start}


feed = EventFeed()


@_database
def _recent_events(owner_ids: list[int], window_start) -> list[Event]:
    return list(
        Event.objects.filter(owner_id__in=owner_ids, created_at__gte=window_start)
        .only(*_STREAM_FIELDS)
        .order_by("pk")
    )


@_database
def _event_pk(owner_id: int, public_id: str) -> int | None:
    return (
        Event.objects.filter(owner_id=owner_id, public_id=public_id)
        .values_list("pk", flat=True)
        .first()
    )


@_database
def _events_after(owner_id: int, pk: int, limit: int) -> list[Event]:
    return list(
        Event.objects.filter(owner_id=owner_id, pk__gt=pk)
        .only(*_STREAM_FIELDS)
        .order_by("pk")[:limit]
    )


@_database
def _bearer_user(raw_token: str):
    token = api_token_authenticate(raw_token=raw_token)
    return token.user if token else None


async def _authenticated_user(request):
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return await _bearer_user(header.split(" ", 1)[1].strip())
    user = await request.auser()
    return user if user.is_authenticated else None


async def _stream(owner_id: int, last_event_id: str | None, stream_filter: StreamFilter):
    """Replay after `last_event_id` if given, then live events, with heartbeats between.

    With a Last-Event-ID, every event after it is the client's: all of them are replayed, in
    pages, and a live one counts unless this stream already replayed it (an event committing
    late, with a lower id than one replayed, still arrives live). Without one, live events
    are those created after the client connected. A heartbeat goes out whenever nothing was
    written for STREAM_HEARTBEAT_SECONDS, also while filtered-out events keep arriving.
    """
    connected_at = timezone.now()
    queue = feed.subscribe(owner_id)
    floor_pk, replayed = None, set()
    last_write = time.monotonic()
    try:
        yield b": connected\n\n"
        if last_event_id:
            floor_pk = await _event_pk(owner_id, last_event_id)
        after = floor_pk
        while after is not None and (
            page := await _events_after(owner_id, after, settings.STREAM_REPLAY_LIMIT)
        ):
            for event in page:
                replayed.add(event.pk)
                if stream_filter.accepts(event):
                    yield sse_message(event, named=stream_filter.named_events)
                    last_write = time.monotonic()
            after = page[-1].pk
        while True:
            wait = settings.STREAM_HEARTBEAT_SECONDS - (time.monotonic() - last_write)
            if wait <= 0:
                yield b": heartbeat\n\n"
                last_write = time.monotonic()
                continue
            try:
                event = await asyncio.wait_for(queue.get(), timeout=wait)
            except TimeoutError:
                continue
            if floor_pk is not None:
                is_new = event.pk > floor_pk and event.pk not in replayed
            else:
                is_new = event.created_at >= connected_at
            if is_new and stream_filter.accepts(event):
                yield sse_message(event, named=stream_filter.named_events)
                last_write = time.monotonic()
    finally:
        feed.unsubscribe(owner_id, queue)


def _not_authenticated() -> JsonResponse:
    response = JsonResponse(
        error_body("Authentication credentials were not provided.", "not_authenticated"),
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _allow_origin(request, response):
    """CORS for pages served from another origin (e.g. gunicorn's port under `make run`)."""
    origin = request.headers.get("Origin")
    if origin and origin in settings.STREAM_ALLOWED_ORIGINS:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
        response["Vary"] = "Origin"
    return response


async def event_stream(request):
    """`GET /api/events/stream`: the caller's events as they are created (SSE)."""
    if request.method != "GET":
        return JsonResponse(error_body("Method not allowed.", "method_not_allowed"), status=405)
    if "wsgi.version" in request.META:
        # Under WSGI a stream would hold a web worker for as long as it is open.
        return _allow_origin(request, JsonResponse(
            error_body("Live streams are served by the ASGI process.", "stream_unavailable"),
            status=503,
        ))  # fmt: skip
    user = await _authenticated_user(request)
    if user is None:
        return _allow_origin(request, _not_authenticated())
    types = request.GET.get("types", "")
    stream_filter = StreamFilter(
        type_patterns=[pattern.strip() for pattern in types.split(",") if pattern.strip()],
        source=request.GET.get("source") or None,
        named_events=request.GET.get("event_names") != "0",
    )
    last_event_id = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
    response = StreamingHttpResponse(
        _stream(user.pk, last_event_id, stream_filter), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # tell nginx not to buffer the stream
    return _allow_origin(request, response)


async def event_stream_stats(request):
    """`GET /api/webhooks/events/stream/stats` (staff): open streams of this process."""
    user = await _authenticated_user(request)
    if user is None:
        return _not_authenticated()
    if not user.is_staff:
        return JsonResponse(error_body("Staff only.", "permission_denied"), status=403)
    return JsonResponse(feed.stats())
