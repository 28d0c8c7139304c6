"""Many outbound requests in flight from one process: aiohttp on a background event loop.

A caller in ordinary synchronous code (a Celery task, with its Django database connection on
its own thread) submits requests and gets `concurrent.futures.Future`s back; the sockets are
driven by one event loop thread per process. So an endpoint that takes 100 ms to answer costs
the process one open socket for 100 ms, not 100 ms of its time. aiohttp, because its pool
held 1,500 requests/s at 200 connections here where httpx's slowed down past 50.

The same rules as the blocking client: a total timeout per request, no redirects, at most
MAX_DRAIN_BYTES of a body read (the first BODY_HEAD_BYTES kept), and the resolver refuses
private addresses unless they are allowed. aiohttp connects to exactly the addresses its
resolver returned, so the check holds for the connection made (no DNS-rebinding window); IP
literals, which aiohttp does not resolve, are checked before the request.
"""

import asyncio
import atexit
import contextlib
import os
import threading
import time
from concurrent.futures import Future
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from webhooks.http.guard import ForbiddenAddress, address_is_public, ip_literal
from webhooks.http.result import (
    BODY_HEAD_BYTES,
    MAX_DRAIN_BYTES,
    ErrorKind,
    SendResult,
    answered,
    failure,
)


class GuardedResolver(AbstractResolver):
    """Resolves through the system resolver and refuses any non-public answer."""

    def __init__(self):
        self._resolver = ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family=0) -> list[ResolveResult]:
        addresses = await self._resolver.resolve(host, port, family)
        refused = [a["host"] for a in addresses if not address_is_public(a["host"])]
        if refused:
            raise ForbiddenAddress(f"{host} resolves to {', '.join(refused)}")
        return addresses

    async def close(self) -> None:
        await self._resolver.close()


class ConcurrentClient:
    """A pool of up to `max_connections` sockets on this process's event loop thread."""

    def __init__(self, *, max_connections: int, allow_private: bool, user_agent: str):
        self.max_connections = max_connections
        self.allow_private = allow_private
        self.user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None

    def post(
        self, url: str, *, body: bytes, headers: dict[str, str], timeout_seconds: float
    ) -> Future:
        """Start a POST now; the future's result is a SendResult (it never raises)."""
        return asyncio.run_coroutine_threadsafe(
            self._post(url, body, headers, timeout_seconds), _loop()
        )

    def _client_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self.max_connections,
                limit_per_host=0,  # per-endpoint caps are the engine's, held in the database
                resolver=None if self.allow_private else GuardedResolver(),
                ttl_dns_cache=10,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.user_agent},
                auto_decompress=False,  # a compressed body counts as sent, not as inflated
                trust_env=False,
            )
        return self._session

    async def _post(self, url, body, headers, timeout_seconds) -> SendResult:
        started = time.perf_counter()

        def elapsed_ms() -> int:
            return int((time.perf_counter() - started) * 1000)

        host = urlsplit(url).hostname or ""
        literal = ip_literal(host)
        if not self.allow_private and literal and not address_is_public(literal):
            return failure(ErrorKind.FORBIDDEN_ADDRESS, f"address not allowed: {host}", 0)
        timeout = aiohttp.ClientTimeout(total=timeout_seconds, connect=min(timeout_seconds, 5))
        try:
            async with self._client_session().post(
                url, data=body, headers=headers, timeout=timeout, allow_redirects=False
            ) as response:
                head = await _read_capped(response.content)
                return answered(response.status, response.headers, head, elapsed_ms())
        except TimeoutError:
            return failure(ErrorKind.TIMEOUT, f"no answer within {timeout_seconds} s", elapsed_ms())
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, ForbiddenAddress):
                message = f"address not allowed: {exc.os_error}"
                return failure(ErrorKind.FORBIDDEN_ADDRESS, message, elapsed_ms())
            return failure(ErrorKind.CONNECTION, str(exc), elapsed_ms())
        except (aiohttp.ClientError, ValueError, OSError) as exc:
            return failure(ErrorKind.CONNECTION, str(exc) or type(exc).__name__, elapsed_ms())


async def _read_capped(content: aiohttp.StreamReader) -> bytes:
    """The first BODY_HEAD_BYTES; the rest up to MAX_DRAIN_BYTES is read and dropped so the
    connection can be reused. A longer body is left unread: aiohttp then closes the socket."""
    head, read = b"", 0
    while read < MAX_DRAIN_BYTES:
        chunk = await content.read(min(BODY_HEAD_BYTES, MAX_DRAIN_BYTES - read))
        if not chunk:
            break
        if len(head) < BODY_HEAD_BYTES:
            head += chunk[: BODY_HEAD_BYTES - len(head)]
        read += len(chunk)
    return head


_loop_state: dict = {}
_loop_lock = threading.Lock()


def _loop() -> asyncio.AbstractEventLoop:
    """This process's event loop thread, started on first use (and again after a fork, whose
    child inherits the variable but not the thread)."""
    with _loop_lock:
        if _loop_state.get("pid") != os.getpid():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="outbound-http", daemon=True)
            thread.start()
            _loop_state.update(pid=os.getpid(), loop=loop)
            _clients.clear()
        return _loop_state["loop"]


async def _close_all() -> None:
    for pooled in list(_clients.values()):
        if pooled._session is not None:
            await pooled._session.close()


@atexit.register
def _close_at_exit() -> None:
    """Close the pools' sockets before the interpreter goes (and aiohttp warns of them)."""
    if _loop_state.get("pid") == os.getpid():
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(_close_all(), _loop_state["loop"]).result(timeout=2)


_clients: dict[tuple, ConcurrentClient] = {}


def client(*, max_connections: int, allow_private: bool, user_agent: str) -> ConcurrentClient:
    """The process's client for this policy; its connections are kept alive between calls."""
    _loop()
    key = (max_connections, allow_private, user_agent)
    with _loop_lock:
        if key not in _clients:
            _clients[key] = ConcurrentClient(
                max_connections=max_connections, allow_private=allow_private, user_agent=user_agent
            )
        return _clients[key]
